// SPDX-License-Identifier: MIT
/*
 * rawcap-stat - print a ring's header figures: positions, rates, drops,
 * generation, oldest and newest timestamps, as text or JSON.
 *
 * Unprivileged: it maps the ring read-only through librawcap like any
 * reader, and reads only the header (rawcap_ring_info), never records.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rawcap/rawcap.h>

#include "opt.h"

enum { OPT_ID_JSON = OPT_ID_LOCAL, OPT_ID_INTERVAL };

static const struct opt stat_opts[] = {
	OPT_DEF_RING("ring to read (default: default)"),
	{"json", 'j', OPT_ID_JSON, NULL, "one JSON object instead of text", 0},
	{"interval", 0, OPT_ID_INTERVAL, "SECS",
	 "sample twice, SECS apart, to show rates (default: 1; 0: no\nrates)", 0},
	OPT_DEF_QUIET,
	OPT_DEF_HELP,
	OPT_GONE(NULL, 'i',
		 "was --interval; -i is capd's --interfaces (tcpdump's -i): give "
		 "--interval"),
	OPT_END,
};

static void stat_usage(void)
{
	fputs("Usage: rawcap-stat [OPTION]...\n"
	      "Print the figures of a rawcap ring's header: positions, sequence numbers, record "
	      "and\n"
	      "packet counts, rates, losses by cause, generation and the time span held.\n"
	      "\n",
	      stdout);
	opt_help(stdout, stat_opts);
	fputs("\n"
	      "The state says whether capd is live, stopped (exited), not running (killed or "
	      "crashed:\n"
	      "no process holds the ring), not responding (no heartbeat for 5 s) or retired.\n"
	      "RAWCAP_SHM_DIR overrides /dev/shm. Exit status: 0 success, 1 the ring cannot be "
	      "read,\n"
	      "2 usage error.\n",
	      stdout);
}

/* Ring header loss counters by cause; 0 (reader loss) is a reader's own, never in the header. */
static const char *stat_loss_name(int cause)
{
	return cause ? rawcap_loss_cause_name((uint32_t)cause) : NULL;
}

struct stat_rates {
	double secs, records, bytes, packets, packet_bytes;
};

/* capd's state, judged by librawcap (rawcap_writer_state). */
struct stat_writer {
	int state;
	uint64_t silent_ns;
};

static const char *const stat_state_names[] = {
	[RAWCAP_WRITER_RUNNING] = "live",     [RAWCAP_WRITER_STOPPED] = "stopped",
	[RAWCAP_WRITER_GONE] = "not running", [RAWCAP_WRITER_HUNG] = "not responding",
	[RAWCAP_WRITER_RETIRED] = "retired",
};
static const char *const stat_state_why[] = {
	[RAWCAP_WRITER_RUNNING] = "",
	[RAWCAP_WRITER_STOPPED] = "capd exited; last ",
	[RAWCAP_WRITER_GONE] = "capd was killed or crashed; last ",
	[RAWCAP_WRITER_HUNG] = "capd holds the ring but does not beat; ",
	[RAWCAP_WRITER_RETIRED] = "a newer ring replaced it; last ",
};

static void stat_print_text(const char *ring, const struct rawcap_ring_info *in,
			    const struct stat_rates *r, const struct stat_writer *wr)
{
	char t1[64], t2[64], t3[64], t4[64];

	printf("ring         %s\n", ring);
	printf("state        %s (%swriter pid %u, heartbeat %.1f s ago)\n",
	       stat_state_names[wr->state], stat_state_why[wr->state], in->writer_pid,
	       (double)wr->silent_ns / 1e9);
	printf("generation   %llu (created %s)\n", (unsigned long long)in->generation,
	       rawcap_format_time(in->created_ns, t1, sizeof(t1)));
	printf("data size    %llu bytes\n", (unsigned long long)in->data_size);
	printf("positions    head %llu, tail %llu (%llu bytes held)\n",
	       (unsigned long long)in->head, (unsigned long long)in->tail,
	       (unsigned long long)(in->head - in->tail));
	printf("sequence     base %llu, next %llu\n", (unsigned long long)in->base_seq,
	       (unsigned long long)in->next_seq);
	printf("records      %llu (%llu bytes), wraps %llu\n", (unsigned long long)in->records,
	       (unsigned long long)in->bytes, (unsigned long long)in->wraps);
	printf("packets      %llu (%llu bytes on the wire)\n", (unsigned long long)in->packets,
	       (unsigned long long)in->packet_bytes);
	printf("oldest       %s\n",
	       in->oldest_ts_ns ? rawcap_format_time(in->oldest_ts_ns, t2, sizeof(t2)) : "-");
	printf("newest       %s\n",
	       in->newest_ts_ns ? rawcap_format_time(in->newest_ts_ns, t3, sizeof(t3)) : "-");
	printf("heartbeat    %s\n", rawcap_format_time(in->heartbeat_ns, t4, sizeof(t4)));
	if (r->secs > 0)
		printf("rates        %.0f records/s, %.0f packets/s, %.2f MB/s of records, %.2f "
		       "MB/s on the wire\n",
		       r->records, r->packets, r->bytes / 1e6, r->packet_bytes / 1e6);
	printf("loss        ");
	for (int c = 1; c < 16; c++)
		if (stat_loss_name(c))
			printf(" %s=%llu", stat_loss_name(c), (unsigned long long)in->loss[c]);
	printf("\n");
}

static void stat_print_json(const char *ring, const struct rawcap_ring_info *in,
			    const struct stat_rates *r, const struct stat_writer *wr)
{
	printf("{\"ring\":\"%s\",\"state\":\"%s\",\"heartbeat_age_ns\":%llu,", ring,
	       stat_state_names[wr->state], (unsigned long long)wr->silent_ns);
	printf("\"generation\":%llu,\"created_ns\":%llu,\"retired\":%s,"
	       "\"writer_pid\":%u,\"data_size\":%llu,\"head\":%llu,\"tail\":%llu,"
	       "\"base_seq\":%llu,\"next_seq\":%llu,\"oldest_ts_ns\":%llu,\"newest_ts_ns\":%llu,"
	       "\"heartbeat_ns\":%llu,\"records\":%llu,\"bytes\":%llu,\"packets\":%llu,"
	       "\"packet_bytes\":%llu,\"wraps\":%llu,\"loss\":{",
	       (unsigned long long)in->generation, (unsigned long long)in->created_ns,
	       in->retired ? "true" : "false", in->writer_pid, (unsigned long long)in->data_size,
	       (unsigned long long)in->head, (unsigned long long)in->tail,
	       (unsigned long long)in->base_seq, (unsigned long long)in->next_seq,
	       (unsigned long long)in->oldest_ts_ns, (unsigned long long)in->newest_ts_ns,
	       (unsigned long long)in->heartbeat_ns, (unsigned long long)in->records,
	       (unsigned long long)in->bytes, (unsigned long long)in->packets,
	       (unsigned long long)in->packet_bytes, (unsigned long long)in->wraps);
	for (int c = 1, first = 1; c < 16; c++) {
		if (!stat_loss_name(c))
			continue;
		printf("%s\"%s\":%llu", first ? "" : ",", stat_loss_name(c),
		       (unsigned long long)in->loss[c]);
		first = 0;
	}
	printf("}");
	if (r->secs > 0)
		printf(",\"rates\":{\"interval_s\":%.3f,\"records_per_s\":%.1f,\"packets_per_s\":%."
		       "1f,"
		       "\"bytes_per_s\":%.1f,\"packet_bytes_per_s\":%.1f}",
		       r->secs, r->records, r->packets, r->bytes, r->packet_bytes);
	printf("}\n");
}

int main(int argc, char **argv)
{
	const char *ring = "default";
	struct rawcap_ring_info a, b;
	struct stat_rates rates = {0};
	struct stat_writer wr = {0};
	struct rawcap_cursor *c;
	char why[320];
	uint64_t interval_ns = 1000000000ull, t0, t1;
	struct opt_parser p;
	bool json = false;
	int o, err;

	opt_init(&p, stat_opts, argc, argv);
	while ((o = opt_next(&p, "rawcap-stat")) != -1) {
		switch (o) {
		case OPT_ID_RING:
			ring = optarg;
			break;
		case OPT_ID_JSON:
			json = true;
			break;
		case OPT_ID_INTERVAL:
			if (opt_seconds(optarg, 3600 * 1000000000ull, &interval_ns)) {
				fprintf(stderr,
					"rawcap-stat: bad interval '%s': expected seconds (2, 0.5) "
					"or a "
					"duration (500ms, 1m), at most 1h\n",
					optarg);
				return 2;
			}
			break;
		case OPT_ID_HELP:
			opt_help_buffer();
			stat_usage();
			return 0;
		default:
			if (p.reported)
				return 2;
			fprintf(stderr, "rawcap-stat: bad usage (see rawcap-stat --help)\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rawcap-stat: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	err = rawcap_open(ring, &c);
	if (err) {
		fprintf(stderr, "rawcap-stat: cannot open ring '%s': %s\n", ring,
			rawcap_ring_explain(ring, err, why, sizeof(why)));
		return 1;
	}
	t0 = rawcap_now_ns();
	err = rawcap_ring_info(c, &a);
	if (!err && interval_ns) {
		usleep((useconds_t)(interval_ns / 1000));
		t1 = rawcap_now_ns();
		err = rawcap_ring_info(c, &b);
		if (!err && b.generation == a.generation) {
			rates.secs = (double)(t1 - t0) / 1e9;
			rates.records = (double)(b.records - a.records) / rates.secs;
			rates.bytes = (double)(b.bytes - a.bytes) / rates.secs;
			rates.packets = (double)(b.packets - a.packets) / rates.secs;
			rates.packet_bytes = (double)(b.packet_bytes - a.packet_bytes) / rates.secs;
		}
		a = b;
	}
	if (err) {
		fprintf(stderr, "rawcap-stat: cannot read ring '%s': %s\n", ring, strerror(-err));
		rawcap_close(c);
		return 1;
	}
	wr.state = rawcap_writer_state(c, &wr.silent_ns);
	if (wr.state < 0 || wr.state > RAWCAP_WRITER_RETIRED)
		wr.state = RAWCAP_WRITER_GONE;
	if (json)
		stat_print_json(ring, &a, &rates, &wr);
	else
		stat_print_text(ring, &a, &rates, &wr);
	rawcap_close(c);
	return 0;
}
