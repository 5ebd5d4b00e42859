// SPDX-License-Identifier: MIT
/*
 * httpd_auth.c - who may ask: a client certificate signed by tls_ca, or a
 * bearer token, checked when a request's headers are in, before its body
 * is read or any route runs.
 *
 * TLS itself is MHD's (GnuTLS). With tls_ca MHD asks every client for a
 * certificate (GNUTLS_CERT_REQUEST: a client without one still completes
 * the handshake and gets a 401 with a reason, not a bare TLS alert);
 * gnutls_certificate_verify_peers2() checks it against tls_ca here. A
 * token is compared as SHA-256 digests with CRYPTO_memcmp: the time taken
 * says nothing about the token, its length included.
 */
#include <gnutls/gnutls.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include "httpd_int.h"

#define HTTPD_BEARER "Bearer "

/* A client certificate that tls_ca signed, on this connection. */
static bool httpd_auth_cert_ok(const struct httpd_req *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	unsigned int status = 0, n = 0;
	gnutls_session_t tls;

	if (!ci || !ci->tls_session)
		return false;
	tls = (gnutls_session_t)ci->tls_session;
	if (!gnutls_certificate_get_peers(tls, &n) || !n)
		return false;
	return gnutls_certificate_verify_peers2(tls, &status) == GNUTLS_E_SUCCESS && !status;
}

static bool httpd_auth_token_ok(const struct httpd_req *req)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char got[SHA256_DIGEST_LENGTH], want[SHA256_DIGEST_LENGTH];
	const char *tok;

	if (!v || strncmp(v, HTTPD_BEARER, strlen(HTTPD_BEARER)))
		return false;
	tok = v + strlen(HTTPD_BEARER);
	SHA256((const unsigned char *)tok, strlen(tok), got);
	SHA256((const unsigned char *)req->h->o.token, strlen(req->h->o.token), want);
	return !CRYPTO_memcmp(got, want, sizeof(got));
}

unsigned httpd_auth_check(const struct httpd_req *req, const char **code, const char **detail)
{
	const struct httpd_opts *o = &req->h->o;

	if (!o->tls_ca && !o->token)
		return 0;
	if ((o->tls_ca && httpd_auth_cert_ok(req)) || (o->token && httpd_auth_token_ok(req)))
		return 0;
	*code = "unauthorized";
	*detail = o->tls_ca && o->token ? "a client certificate or a bearer token is required"
		  : o->tls_ca ? "a client certificate signed by the server's CA is required"
			      : "a valid \"Authorization: Bearer TOKEN\" header is required";
	return MHD_HTTP_UNAUTHORIZED;
}
