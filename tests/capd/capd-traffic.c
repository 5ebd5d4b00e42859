// SPDX-License-Identifier: MIT
/*
 * capd-traffic.c - traffic for capd's tests and benchmark, on addresses
 * inside the test's own network namespaces only.
 *
 *   capd-traffic udp DST PORT COUNT [FIRST]  COUNT test payloads (payload.h), indices FIRST..
 *   capd-traffic tcp DST PORT BYTES          one TCP transfer to a server this process forks
 *   capd-traffic flood DST PORT FRAME SECS   UDP as fast as possible, FRAME bytes on the wire
 *
 * UDP modes bind a sink socket on PORT when DST is local, so the kernel does
 * not answer with ICMP. Prints "sent=N bytes=B" on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "payload.h"

#define BATCH 64

static int udp_socket(const char *dst, int port, struct sockaddr_in *sa, int *sink)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, sbuf = 4 << 20;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, dst, &sa->sin_addr) != 1) {
		fprintf(stderr, "capd-traffic: bad address %s\n", dst);
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sbuf, sizeof(sbuf));
	*sink = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(*sink, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Fails harmlessly for a remote DST: then that namespace answers. */
	if (bind(*sink, (struct sockaddr *)sa, sizeof(*sa))) {
		close(*sink);
		*sink = -1;
	}
	return fd;
}

static int send_batch(int fd, struct mmsghdr *m, int n)
{
	int done = 0;

	while (done < n) {
		int r = sendmmsg(fd, m + done, (unsigned)(n - done), 0);

		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR ||
			    errno == ECONNREFUSED) {
				usleep(50);
				continue;
			}
			perror("sendmmsg");
			exit(1);
		}
		done += r;
	}
	return done;
}

static int mode_udp(const char *dst, int port, uint32_t count, uint32_t first)
{
	static uint8_t bufs[BATCH][1300];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa;
	int sink, fd = udp_socket(dst, port, &sa, &sink);
	uint64_t bytes = 0;

	for (uint32_t i = 0; i < count;) {
		int n = 0;

		for (; n < BATCH && i < count; n++, i++) {
			uint32_t idx = first + i;

			udp_payload_fill(bufs[n], idx);
			iov[n].iov_base = bufs[n];
			iov[n].iov_len = udp_payload_len(idx);
			memset(&m[n], 0, sizeof(m[n]));
			m[n].msg_hdr.msg_name = &sa;
			m[n].msg_hdr.msg_namelen = sizeof(sa);
			m[n].msg_hdr.msg_iov = &iov[n];
			m[n].msg_hdr.msg_iovlen = 1;
			bytes += iov[n].iov_len;
		}
		send_batch(fd, m, n);
		/* Paced gently: the point is exactness, not rate (the benchmark floods). */
		if ((i / BATCH) % 16 == 0)
			usleep(100);
	}
	printf("sent=%u bytes=%llu\n", count, (unsigned long long)bytes);
	return 0;
}

static int mode_flood(const char *dst, int port, int frame, double secs)
{
	static uint8_t payload[1500];
	struct mmsghdr m[BATCH];
	struct iovec iov;
	struct sockaddr_in sa;
	int sink, fd = udp_socket(dst, port, &sa, &sink), len = frame - 14 - 20 - 8;
	uint64_t sent = 0;
	double end = clock_mono_s() + secs;

	if (len < 1 || len > 1458) {
		fprintf(stderr, "capd-traffic: frame size %d out of 43..1500\n", frame);
		return 2;
	}
	if (sink >= 0) {
		int small = 4096;

		setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	iov.iov_base = payload;
	iov.iov_len = (size_t)len;
	for (int n = 0; n < BATCH; n++) {
		memset(&m[n], 0, sizeof(m[n]));
		m[n].msg_hdr.msg_name = &sa;
		m[n].msg_hdr.msg_namelen = sizeof(sa);
		m[n].msg_hdr.msg_iov = &iov;
		m[n].msg_hdr.msg_iovlen = 1;
	}
	while (clock_mono_s() < end) {
		for (int k = 0; k < 16; k++) {
			memcpy(payload, &sent, sizeof(sent));
			sent += (uint64_t)send_batch(fd, m, BATCH);
		}
	}
	printf("sent=%llu bytes=%llu\n", (unsigned long long)sent,
	       (unsigned long long)(sent * (uint64_t)frame));
	return 0;
}

static int mode_tcp(const char *dst, int port, uint64_t total)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static char buf[65536];
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1, status;
	uint64_t sent = 0, got = 0;
	pid_t child;

	inet_pton(AF_INET, dst, &sa.sin_addr);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1)) {
		perror("capd-traffic: tcp listen");
		return 1;
	}
	child = fork();
	if (child == 0) {
		int c = accept(ls, NULL, NULL);
		ssize_t n;

		while ((n = read(c, buf, sizeof(buf))) > 0)
			got += (uint64_t)n;
		_exit(got == total ? 0 : 1);
	}
	close(ls);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("capd-traffic: connect");
		return 1;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 13);
	while (sent < total) {
		size_t chunk = total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
		ssize_t n = write(fd, buf, chunk);

		if (n <= 0) {
			perror("capd-traffic: write");
			return 1;
		}
		sent += (uint64_t)n;
		/* ~200 MB/s: the test is about exactness on a shared 2-core machine, not rate. */
		if ((sent & ((1u << 20) - 1)) < (uint64_t)n)
			usleep(5000);
	}
	close(fd);
	waitpid(child, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "capd-traffic: the server did not receive all %llu bytes\n",
			(unsigned long long)total);
		return 1;
	}
	printf("sent=%llu bytes=%llu\n", (unsigned long long)sent, (unsigned long long)sent);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "udp"))
		return mode_udp(argv[2], atoi(argv[3]), (uint32_t)strtoul(argv[4], NULL, 10),
				argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 0);
	if (argc == 5 && !strcmp(argv[1], "tcp"))
		return mode_tcp(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
	if (argc == 6 && !strcmp(argv[1], "flood"))
		return mode_flood(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: capd-traffic udp DST PORT COUNT [FIRST] | tcp DST PORT BYTES | "
			"flood DST PORT FRAME SECS\n");
	return 2;
}
