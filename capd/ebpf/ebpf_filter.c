// SPDX-License-Identifier: MIT
/*
 * ebpf_filter.c - parse the small pcap-filter subset that the tc capture
 * program evaluates from its filter map. Full BPF filters (cBPF compiled by
 * libpcap) stay with the AF_PACKET backend; here we refuse clearly instead of
 * capturing something other than what was asked for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "ebpf_capture.h"

static int unsupported(char *why, size_t whylen, const char *tok, const char *hint)
{
	snprintf(why, whylen,
		 "eBPF capture filter: \"%s\" is not supported (%s); the eBPF backend accepts only "
		 "[tcp|udp] [and port N] [and host A.B.C.D|net A.B.C.D/N]",
		 tok, hint);
	return -EOPNOTSUPP;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int parse_net4(const char *s, int host, uint32_t *net, uint32_t *mask)
{
	char addr[32], *slash;
	unsigned long bits = 32;
	struct in_addr a;

	if (snprintf(addr, sizeof(addr), "%s", s) >= (int)sizeof(addr))
		return -EINVAL;
	slash = strchr(addr, '/');
	if (slash) {
		char *end;

		if (host)
			return -EINVAL;
		*slash = '\0';
		bits = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || bits > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, addr, &a) != 1)
		return -EINVAL;
	*mask = bits ? htonl(~0u << (32 - bits)) : 0;
	*net = a.s_addr & *mask;
	return 0;
}

static int parse_term(char **save, const char *tok, struct cap_filter *f, char *why, size_t whylen)
{
	char *arg;

	if (!strcmp(tok, "tcp") || !strcmp(tok, "udp")) {
		if (f->flags & CAP_FILT_PROTO)
			return unsupported(why, whylen, tok, "a second protocol needs \"or\"");
		f->flags |= CAP_FILT_PROTO;
		f->proto = tok[0] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
		return 0;
	}
	if (strcmp(tok, "port") && strcmp(tok, "host") && strcmp(tok, "net"))
		return unsupported(why, whylen, tok, "unknown or unsupported primitive");
	arg = strtok_r(NULL, " \t", save);
	if (!arg) {
		snprintf(why, whylen, "eBPF capture filter: \"%s\" needs an argument", tok);
		return -EINVAL;
	}
	if (!strcmp(tok, "port")) {
		if (f->flags & CAP_FILT_PORT)
			return unsupported(why, whylen, tok, "only one port");
		f->flags |= CAP_FILT_PORT;
		if (parse_port(arg, &f->port))
			goto bad_arg;
		return 0;
	}
	if (f->flags & CAP_FILT_NET4)
		return unsupported(why, whylen, tok, "only one host or net");
	f->flags |= CAP_FILT_NET4;
	if (parse_net4(arg, tok[0] == 'h', &f->net, &f->mask)) {
		if (strchr(arg, ':'))
			return unsupported(why, whylen, arg, "IPv6 addresses");
		goto bad_arg;
	}
	return 0;
bad_arg:
	snprintf(why, whylen, "eBPF capture filter: bad argument \"%s\" to \"%s\"", arg, tok);
	return -EINVAL;
}

int ebpf_filter_parse(const char *s, struct cap_filter *f, char *why, size_t whylen)
{
	char buf[256], *save = NULL, *tok;
	int want_term = 1, err;

	memset(f, 0, sizeof(*f));
	if (!s)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf)) {
		snprintf(why, whylen, "eBPF capture filter: longer than %zu bytes",
			 sizeof(buf) - 1);
		return -EINVAL;
	}
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!want_term) {
			if (strcmp(tok, "and") && strcmp(tok, "&&"))
				return unsupported(why, whylen, tok,
						   "terms can only be joined by \"and\"");
			want_term = 1;
			continue;
		}
		err = parse_term(&save, tok, f, why, whylen);
		if (err)
			return err;
		want_term = 0;
	}
	if (want_term && f->flags) {
		snprintf(why, whylen, "eBPF capture filter: ends with \"and\"");
		return -EINVAL;
	}
	return 0;
}
