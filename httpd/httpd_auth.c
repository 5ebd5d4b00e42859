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
 * says nothing about the token, its length included. A read-only token
 * (token_ro) admits GET and HEAD; any other method with it is 403.
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

/* The request's "Authorization: Bearer TOKEN" is token. */
static bool httpd_auth_token_ok(const struct httpd_req *req, const char *token)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char got[SHA256_DIGEST_LENGTH], want[SHA256_DIGEST_LENGTH];
	const char *tok;

	if (!token || !v || strncmp(v, HTTPD_BEARER, strlen(HTTPD_BEARER)))
		return false;
	tok = v + strlen(HTTPD_BEARER);
	SHA256((const unsigned char *)tok, strlen(tok), got);
	SHA256((const unsigned char *)token, strlen(token), want);
	return !CRYPTO_memcmp(got, want, sizeof(got));
}

/* A method that only reads: what a read-only token admits. */
static bool httpd_auth_reads(const struct httpd_req *req)
{
	return !strcmp(req->method, MHD_HTTP_METHOD_GET) ||
	       !strcmp(req->method, MHD_HTTP_METHOD_HEAD);
}

unsigned httpd_auth_check(const struct httpd_req *req, const char **code, const char **detail)
{
	const struct httpd_opts *o = &req->h->o;
	bool any_token = o->token || o->token_ro;

	if (!o->tls_ca && !any_token)
		return 0;
	if ((o->tls_ca && httpd_auth_cert_ok(req)) || httpd_auth_token_ok(req, o->token))
		return 0;
	if (httpd_auth_token_ok(req, o->token_ro)) {
		if (httpd_auth_reads(req))
			return 0;
		*code = "forbidden";
		*detail = "this token is read-only: it may GET, not change anything";
		return MHD_HTTP_FORBIDDEN;
	}
	*code = "unauthorized";
	*detail = o->tls_ca && any_token ? "a client certificate or a bearer token is required"
		  : o->tls_ca ? "a client certificate signed by the server's CA is required"
			      : "a valid \"Authorization: Bearer TOKEN\" header is required";
	return MHD_HTTP_UNAUTHORIZED;
}
