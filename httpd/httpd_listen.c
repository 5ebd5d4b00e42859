// SPDX-License-Identifier: MIT
/*
 * httpd_listen.c - listen addresses as every rawcap listener takes them:
 * numeric "ADDR:PORT" or "[ADDR6]:PORT", and whether one is on loopback
 * (where rawcap-server may serve plain HTTP).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "httpd.h"

static int parse_port(const char *s, uint16_t *out)
{
	unsigned v = 0;
	int n = 0;

	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n == 5)
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (n == 0 || v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int httpd_parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *hs, *he, *port;
	bool v6 = false;
	uint16_t p;

	if (!s)
		return -EINVAL;
	if (*s == '[') {
		hs = s + 1;
		he = strchr(hs, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		port = he + 2;
		v6 = true;
	} else {
		hs = s;
		he = strchr(s, ':');
		if (!he || strchr(he + 1, ':'))
			return -EINVAL;
		port = he + 1;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(host) || parse_port(port, &p))
		return -EINVAL;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons(p);
		*len = sizeof(*a);
	}
	return 0;
}

bool httpd_listen_is_loopback(const char *s)
{
	struct sockaddr_storage sa;
	socklen_t len;

	if (httpd_parse_listen(s, &sa, &len))
		return false;
	if (sa.ss_family == AF_INET)
		return ntohl(((struct sockaddr_in *)&sa)->sin_addr.s_addr) >> 24 == 127;
	return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&sa)->sin6_addr);
}
