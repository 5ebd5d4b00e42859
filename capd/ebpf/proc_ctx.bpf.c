// SPDX-License-Identifier: GPL-2.0
/*
 * proc_ctx.bpf.c - process context for flows: who (pid, comm, cgroup) owns
 * which socket (cookie, 5-tuple).
 *
 * Only attach points that load without kprobes or fentry are used:
 *  - cgroup/sock_create: socket creation in the creator's context; also makes
 *    the kernel assign the socket cookie now, so that later reads see it.
 *  - tracepoint syscalls/sys_{enter,exit}_connect: after connect() the local
 *    address and port are chosen, so the exit reads the whole tuple from the
 *    socket, still in the caller's context.
 *  - tracepoint syscalls/sys_exit_accept{,4}: the accepted socket's tuple in
 *    the acceptor's context.
 *  - sockops: passive establishment runs in softirq (no useful pid); used only
 *    to assign the cookie of accepted sockets before accept() returns.
 *  - cgroup/sendmsg{4,6}, cgroup/recvmsg{4,6}: unconnected UDP peers, rate
 *    limited per (socket, peer) by an LRU map.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "proc_event.h"

#define AF_INET	      2
#define AF_INET6      10
#define SOCK_STREAM   1
#define SOCK_DGRAM    2
#define EINPROGRESS   115
#define UDP_REPEAT_NS (60ull * 1000000000ull)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Events lost to a full ring buffer, per CPU slot; read through the .bss mmap. */
struct pc_counters pc_cnt[PC_MAX_CPUS];

/* connect() fd between syscall entry and exit, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u32);
} connect_fd SEC(".maps");

struct udp_key {
	__u64 cookie;
	__u8 peer[16];
	__u16 port;
	__u8 kind;
	__u8 pad[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct udp_key);
	__type(value, __u64);
} udp_seen SEC(".maps");

static __always_inline struct pc_event *ev_new(__u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__u32 cpu = bpf_get_smp_processor_id() & (PC_MAX_CPUS - 1);

		__sync_fetch_and_add(&pc_cnt[cpu].drops, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline bool inet_l4(__u16 family, __u16 type, __u16 proto)
{
	return (family == AF_INET || family == AF_INET6) &&
	       ((type == SOCK_STREAM && proto == IPPROTO_TCP) ||
		(type == SOCK_DGRAM && proto == IPPROTO_UDP));
}

SEC("cgroup/sock_create")
int rawcap_sock_create(struct bpf_sock *sk)
{
	struct pc_event *e;

	if (!inet_l4(sk->family, sk->type, sk->protocol))
		return 1;
	e = ev_new(PC_EV_CREATE);
	if (!e)
		return 1;
	e->family = sk->family;
	e->proto = sk->protocol;
	e->cookie = bpf_get_socket_cookie(sk);
	bpf_ringbuf_submit(e, 0);
	return 1;
}

static __always_inline struct sock *fd_to_sock(__u32 fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(t, files, fdt, max_fds);
	struct file *f = NULL;
	struct socket *so;

	if (fd >= max || bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	return so ? BPF_CORE_READ(so, sk) : NULL;
}

static __always_inline void emit_sock(struct sock *sk, __u8 kind)
{
	__u16 family, type, proto;
	struct pc_event *e;

	if (!sk)
		return;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	type = BPF_CORE_READ(sk, sk_type);
	proto = BPF_CORE_READ(sk, sk_protocol);
	if (!inet_l4(family, type, proto))
		return;
	e = ev_new(kind);
	if (!e)
		return;
	e->family = family;
	e->proto = proto;
	e->cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	bpf_ringbuf_submit(e, 0);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int rawcap_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 fd = (__u32)ctx->args[0];

	bpf_map_update_elem(&connect_fd, &id, &fd, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int rawcap_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 *fd = bpf_map_lookup_elem(&connect_fd, &id);

	if (!fd)
		return 0;
	if (ctx->ret == 0 || ctx->ret == -EINPROGRESS)
		emit_sock(fd_to_sock(*fd), PC_EV_CONNECT);
	bpf_map_delete_elem(&connect_fd, &id);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int rawcap_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		emit_sock(fd_to_sock((__u32)ctx->ret), PC_EV_ACCEPT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int rawcap_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		emit_sock(fd_to_sock((__u32)ctx->ret), PC_EV_ACCEPT);
	return 0;
}

SEC("sockops")
int rawcap_sockops(struct bpf_sock_ops *ops)
{
	if (ops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_get_socket_cookie(ops);
	return 1;
}

/* Unconnected UDP: one event per (socket, peer, direction) per UDP_REPEAT_NS. */
static __always_inline void udp_peer(struct bpf_sock_addr *ctx, __u8 kind, bool v6)
{
	struct udp_key k = {};
	struct pc_event *e;
	struct bpf_sock *sk;
	__u64 now = bpf_ktime_get_ns(), *last;

	k.cookie = bpf_get_socket_cookie(ctx);
	k.port = bpf_ntohs((__u16)ctx->user_port);
	k.kind = kind;
	if (v6) {
		__u32 a[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
			      ctx->user_ip6[3]};

		__builtin_memcpy(k.peer, a, 16);
	} else {
		__u32 a = ctx->user_ip4;

		__builtin_memcpy(k.peer, &a, 4);
	}
	last = bpf_map_lookup_elem(&udp_seen, &k);
	if (last && now - *last < UDP_REPEAT_NS)
		return;
	bpf_map_update_elem(&udp_seen, &k, &now, BPF_ANY);
	e = ev_new(kind);
	if (!e)
		return;
	e->family = v6 ? AF_INET6 : AF_INET;
	e->proto = IPPROTO_UDP;
	e->cookie = k.cookie;
	e->dport = k.port;
	__builtin_memcpy(e->daddr, k.peer, 16);
	sk = ctx->sk;
	if (sk) {
		e->sport = (__u16)sk->src_port;
		if (v6) {
			__u32 a[4] = {sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2],
				      sk->src_ip6[3]};

			__builtin_memcpy(e->saddr, a, 16);
		} else {
			__u32 a = sk->src_ip4;

			__builtin_memcpy(e->saddr, &a, 4);
		}
	}
	bpf_ringbuf_submit(e, 0);
}

SEC("cgroup/sendmsg4")
int rawcap_sendmsg4(struct bpf_sock_addr *ctx)
{
	udp_peer(ctx, PC_EV_UDP_SEND, false);
	return 1;
}

SEC("cgroup/sendmsg6")
int rawcap_sendmsg6(struct bpf_sock_addr *ctx)
{
	udp_peer(ctx, PC_EV_UDP_SEND, true);
	return 1;
}

SEC("cgroup/recvmsg4")
int rawcap_recvmsg4(struct bpf_sock_addr *ctx)
{
	udp_peer(ctx, PC_EV_UDP_RECV, false);
	return 1;
}

SEC("cgroup/recvmsg6")
int rawcap_recvmsg6(struct bpf_sock_addr *ctx)
{
	udp_peer(ctx, PC_EV_UDP_RECV, true);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
