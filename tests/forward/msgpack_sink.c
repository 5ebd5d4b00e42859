// SPDX-License-Identifier: MIT
/*
 * msgpack_sink.c - a receiver of rawcap-forward's msgpack stream for the
 * tests: connect, say HELLO with a stream id, log every frame as a line,
 * acknowledge positions, and optionally die abruptly (SIGKILL) mid-stream
 * so that a reconnect can be checked for loss and duplicates.
 *
 * Usage: msgpack_sink HOST:PORT --stream ID [--ack-every N] [--die-after N]
 *                     [--idle-exit MS] [--resume SEQ] [--half-close]
 * --half-close: shutdown(SHUT_WR) right after the HELLO, no ACKs, read on.
 * Lines on stdout: "P seq caplen", "I seq ifindex", "G first count reason",
 * "L seq count", "E last", "A seq" (an ack sent), "H start_seq".
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rawcap/forward.h>

static int dial(char *spec)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	char *colon = strrchr(spec, ':');
	int fd;

	if (!colon)
		return -1;
	*colon = 0;
	if (getaddrinfo(spec, colon + 1, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
	return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static void ack(int fd, uint64_t seq)
{
	uint8_t b[64];
	int n = rawcap_stream_ack(b, sizeof(b), seq);

	if (n > 0 && !send_all(fd, b, (size_t)n))
		printf("A %llu\n", (unsigned long long)seq);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"stream", required_argument, NULL, 's'},
		{"ack-every", required_argument, NULL, 'a'},
		{"die-after", required_argument, NULL, 'd'},
		{"idle-exit", required_argument, NULL, 'i'},
		{"resume", required_argument, NULL, 'r'},
		{"half-close", no_argument, NULL, 'h'},
		{0},
	};
	const char *stream = "";
	unsigned long ack_every = 1, die_after = 0, npkt = 0;
	int idle_ms = 3000, c, fd, n;
	bool resume = false, half_close = false;
	uint64_t resume_seq = 0, last = 0;
	bool have_last = false;
	static uint8_t buf[2 * RAWCAP_STREAM_FRAME_MAX];
	size_t len = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			stream = optarg;
			break;
		case 'a':
			ack_every = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			die_after = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			idle_ms = atoi(optarg);
			break;
		case 'r':
			resume = true, resume_seq = strtoull(optarg, NULL, 0);
			break;
		case 'h':
			half_close = true;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || !ack_every)
		return 2;
	fd = dial(argv[optind]);
	if (fd < 0) {
		perror("msgpack_sink: connect");
		return 1;
	}
	n = rawcap_stream_hello(buf, sizeof(buf), stream, resume, resume_seq);
	if (n < 0 || send_all(fd, buf, (size_t)n))
		return 1;
	if (half_close && shutdown(fd, SHUT_WR))
		return 1;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct rawcap_stream_frame f;
		ssize_t r;

		if (poll(&p, 1, idle_ms) == 0)
			break; /* idle: done */
		r = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		while ((n = rawcap_stream_decode(buf, len, &f)) > 0) {
			switch (f.type) {
			case RAWCAP_STREAM_HELLO:
				printf("H %llu\n", (unsigned long long)f.seq);
				break;
			case RAWCAP_STREAM_PACKET:
				printf("P %llu %u\n", (unsigned long long)f.seq, f.data_len);
				last = f.seq, have_last = true;
				npkt++;
				break;
			case RAWCAP_STREAM_IFACE:
				printf("I %llu %u\n", (unsigned long long)f.seq, f.ifindex);
				break;
			case RAWCAP_STREAM_GAP:
				printf("G %llu %llu %u\n", (unsigned long long)f.seq,
				       (unsigned long long)f.count, f.reason);
				break;
			case RAWCAP_STREAM_LOSS:
				printf("L %llu %llu\n", (unsigned long long)f.seq,
				       (unsigned long long)f.count);
				break;
			case RAWCAP_STREAM_END:
				printf("E %llu\n", (unsigned long long)f.seq);
				break;
			case RAWCAP_STREAM_PAUSE:
				printf("Z %d %llu\n", f.paused, (unsigned long long)f.seq);
				break;
			}
			fflush(stdout);
			memmove(buf, buf + n, len - (size_t)n);
			len -= (size_t)n;
			if (f.type == RAWCAP_STREAM_PACKET && die_after && npkt == die_after)
				raise(SIGKILL); /* abrupt: whatever was not acked is the receiver's
						   loss */
			if (f.type == RAWCAP_STREAM_PACKET && npkt % ack_every == 0 && !half_close)
				ack(fd, last);
			if (f.type == RAWCAP_STREAM_END)
				goto out;
		}
		if (n < 0) {
			fprintf(stderr, "msgpack_sink: bad frame\n");
			return 1;
		}
	}
out:
	if (have_last && !half_close)
		ack(fd, last);
	close(fd);
	return 0;
}
