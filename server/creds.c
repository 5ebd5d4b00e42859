// SPDX-License-Identifier: MIT
/*
 * creds.c - rawcap-server's TLS material and token, read from the files
 * --tls-cert, --tls-key, --tls-ca and --token-file name, and the rule for
 * where plain HTTP may be served: loopback only. Off loopback the server
 * needs TLS and a way to authenticate clients (client certificates, a
 * token, a read-only token, or more than one), or it does not start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_open.h"
#include "server.h"

#define CREDS_MAX (1u << 20) /* a PEM chain or a token file larger than this is refused */

/* The whole of a small regular file the option names (safe_read_named), or exit code 2. */
static int creds_load(const char *opt, const char *path, char **out)
{
	char why[128];

	if (!path)
		return 0;
	if (!safe_read_named(path, CREDS_MAX, out, NULL, why, sizeof(why)))
		return 0;
	fprintf(stderr, SERVER_PROG ": %s %s: %s\n", opt, path, why);
	return 2;
}

/* A token is its file's first line, without trailing white space. */
static int creds_token(const char *opt, const char *file, char **token)
{
	size_t n;

	if (creds_load(opt, file, token) || !*token)
		return file ? 2 : 0;
	n = strcspn(*token, "\r\n");
	while (n && ((*token)[n - 1] == ' ' || (*token)[n - 1] == '\t'))
		n--;
	(*token)[n] = '\0';
	if (n < 16) {
		fprintf(stderr, SERVER_PROG ": %s %s: the token must have 16 characters or more\n",
			opt, file);
		return 2;
	}
	return 0;
}

int server_creds_load(struct server *s)
{
	if (!s->tls_cert_file != !s->tls_key_file) {
		fprintf(stderr,
			SERVER_PROG ": --tls-cert and --tls-key go together (see --help)\n");
		return 2;
	}
	if (s->tls_ca_file && !s->tls_cert_file) {
		fprintf(stderr, SERVER_PROG ": --tls-ca needs --tls-cert and --tls-key\n");
		return 2;
	}
	if (creds_load("--tls-cert", s->tls_cert_file, &s->tls_cert) ||
	    creds_load("--tls-key", s->tls_key_file, &s->tls_key) ||
	    creds_load("--tls-ca", s->tls_ca_file, &s->tls_ca))
		return 2;
	if (creds_token("--token-file", s->token_file, &s->token) ||
	    creds_token("--token-file-ro", s->token_ro_file, &s->token_ro))
		return 2;
	if (s->token && s->token_ro && !strcmp(s->token, s->token_ro)) {
		fprintf(stderr, SERVER_PROG ": --token-file and --token-file-ro hold the same "
					    "token: a client could not be told read-only\n");
		return 2;
	}
	return 0;
}

int server_check_listen(const struct server *s)
{
	struct sockaddr_storage sa;
	socklen_t len;

	if (httpd_parse_listen(s->listen, &sa, &len)) {
		fprintf(stderr,
			SERVER_PROG ": bad --listen '%s' (ADDR:PORT or [ADDR6]:PORT, "
				    "numeric)\n",
			s->listen);
		return 2;
	}
	if (httpd_listen_is_loopback(s->listen))
		return 0;
	if (!s->tls_cert_file) {
		fprintf(stderr,
			SERVER_PROG
			": refusing to serve plain HTTP on %s: without TLS only a "
			"loopback address (127.0.0.1:PORT, [::1]:PORT) is served; reach it "
			"with kubectl port-forward, or give --tls-cert and --tls-key\n",
			s->listen);
		return 2;
	}
	if (!s->tls_ca_file && !s->token_file && !s->token_ro_file) {
		fprintf(stderr,
			SERVER_PROG ": refusing to serve %s without authentication: give --tls-ca "
				    "(client certificates) or --token-file (a bearer token)\n",
			s->listen);
		return 2;
	}
	return 0;
}

void server_creds_free(struct server *s)
{
	free(s->tls_cert);
	if (s->tls_key)
		explicit_bzero(s->tls_key, strlen(s->tls_key));
	free(s->tls_key);
	free(s->tls_ca);
	if (s->token)
		explicit_bzero(s->token, strlen(s->token));
	free(s->token);
	if (s->token_ro)
		explicit_bzero(s->token_ro, strlen(s->token_ro));
	free(s->token_ro);
}
