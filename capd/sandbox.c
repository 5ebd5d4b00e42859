// SPDX-License-Identifier: MIT
/*
 * sandbox.c - capd's privilege drop, after every privileged setup step.
 *
 * Order matters: the bounding set can only be cleared while capd still has
 * CAP_SETPCAP, supplementary groups and the gid only while it has
 * CAP_SETGID, the uid last. Then every capability set is cleared explicitly
 * (not only as a side effect of leaving uid 0), no_new_privs is set, and a
 * seccomp allow-list is installed that kills the process on any other
 * syscall: capd can then read from the sockets it has, write to the ring it
 * has mapped, answer metrics connections, and nothing else; in particular it
 * cannot open a socket, a file or load a BPF program.
 *
 * Landlock (landlock.c) confines file access, between no_new_privs and seccomp.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capd.h"
#include "landlock.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CAPD_SANITIZED 1 /* LeakSanitizer needs ptrace, clone and /proc at exit */
#else
#define CAPD_SANITIZED 0
#endif

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out >= 0xffffffffUL ? -EINVAL : 0;
}

/* Resolve --user/--group before setup, so a typo is a usage error and nothing is created. */
int capd_sandbox_resolve(struct capd_ctx *ctx)
{
	const struct capd_config *cfg = ctx->cfg;
	struct passwd *pw = getpwnam(cfg->user);
	unsigned long id;

	if (pw) {
		ctx->uid = pw->pw_uid;
		ctx->gid = pw->pw_gid;
	} else if (!parse_id(cfg->user, &id)) {
		ctx->uid = (uid_t)id;
		ctx->gid = (gid_t)id; /* no passwd entry: the conventional uid == gid */
	} else {
		fprintf(stderr, "capd: unknown user '%s'\n", cfg->user);
		return -EINVAL;
	}
	if (cfg->group) {
		struct group *gr = getgrnam(cfg->group);

		if (gr)
			ctx->gid = gr->gr_gid;
		else if (!parse_id(cfg->group, &id))
			ctx->gid = (gid_t)id;
		else {
			fprintf(stderr, "capd: unknown group '%s'\n", cfg->group);
			return -EINVAL;
		}
	}
	if (ctx->uid == 0 || ctx->gid == 0) {
		fprintf(stderr,
			"capd: refusing to keep root after setup: --user/--group resolve to 0\n");
		return -EINVAL;
	}
	return 0;
}

static int sandbox_drop_caps(struct capd_ctx *ctx)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	bool bset_ok = true;

	/* Bounding set first: it needs CAP_SETPCAP, which the uid change removes. */
	for (int cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			bset_ok = false;
	}
	if (!bset_ok)
		capd_log("cannot clear the capability bounding set (no CAP_SETPCAP); "
			 "no_new_privs keeps it unusable");
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (geteuid() == 0 || getuid() == 0) {
		if (setgroups(0, NULL) || setresgid(ctx->gid, ctx->gid, ctx->gid) ||
		    setresuid(ctx->uid, ctx->uid, ctx->uid)) {
			capd_log("cannot drop to uid %u gid %u: %s", ctx->uid, ctx->gid,
				 strerror(errno));
			return -errno;
		}
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data)) {
		capd_log("cannot clear capabilities: %s", strerror(errno));
		return -errno;
	}
	/* Check rather than trust: a setuid that silently kept root would be fatal later. */
	if (getuid() == 0 || geteuid() == 0 || syscall(SYS_capget, &hdr, data) ||
	    data[0].effective || data[0].permitted || data[1].effective || data[1].permitted) {
		capd_log("privilege drop did not take effect");
		return -EPERM;
	}
	return 0;
}

/* The syscalls the running loop needs, and nothing that opens or loads anything. */
static const int sandbox_allowed[] = {
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(sendmsg),
	SCMP_SYS(accept4),
	SCMP_SYS(shutdown),
	SCMP_SYS(getsockopt),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(futex),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(madvise),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(brk),
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(tgkill),
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(getrandom),
	SCMP_SYS(sched_yield),
};

/* The disk FIFO after the drop: io_uring writes, segment creation and recycling. */
static const int sandbox_storage_allowed[] = {
	SCMP_SYS(io_uring_enter), SCMP_SYS(openat),    SCMP_SYS(fallocate),
	SCMP_SYS(renameat),	  SCMP_SYS(renameat2), SCMP_SYS(unlinkat),
	SCMP_SYS(fchmod),	  SCMP_SYS(fchown),    SCMP_SYS(fsync),
	SCMP_SYS(fdatasync),	  SCMP_SYS(ftruncate), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64),	  SCMP_SYS(lseek),     SCMP_SYS(statx),
	SCMP_SYS(getdents64),
};

/*
 * The Kubernetes watcher thread after the drop: TCP/TLS to the API server via
 * libcurl (its resolver thread too), and re-reading the rotating token file.
 * socket() is restricted to AF_INET/AF_INET6 below: never a packet socket.
 */
static const int sandbox_k8s_allowed[] = {
	SCMP_SYS(connect),     SCMP_SYS(setsockopt),	  SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(fcntl),		  SCMP_SYS(clone3),
	SCMP_SYS(clone),       SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(openat),      SCMP_SYS(uname),		  SCMP_SYS(ioctl),
	SCMP_SYS(lseek),       SCMP_SYS(pipe2),		  SCMP_SYS(socketpair),
	SCMP_SYS(sysinfo),     SCMP_SYS(getuid),	  SCMP_SYS(geteuid),
	SCMP_SYS(getgid),      SCMP_SYS(getegid),	  SCMP_SYS(eventfd2),
	SCMP_SYS(prlimit64),   SCMP_SYS(sched_getaffinity), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack), SCMP_SYS(faccessat),	    SCMP_SYS(faccessat2),
	SCMP_SYS(readlink),    SCMP_SYS(fstatfs),	    SCMP_SYS(getsockopt),
};

/*
 * The metrics endpoint (libmicrohttpd in capd's loop) beyond accept4, recv,
 * sendmsg and close: it sets TCP_NODELAY/TCP_CORK on its own connections.
 */
static int sandbox_allow_http(scmp_filter_ctx f)
{
	return seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
				SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP));
}

static int sandbox_allow_list(scmp_filter_ctx f, const int *calls, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, calls[i], 0);
	return err;
}

static int sandbox_allow_k8s(scmp_filter_ctx f)
{
	int err = sandbox_allow_list(f, sandbox_k8s_allowed,
				     sizeof(sandbox_k8s_allowed) / sizeof(sandbox_k8s_allowed[0]));

	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				       SCMP_A0(SCMP_CMP_EQ, AF_INET));
	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				       SCMP_A0(SCMP_CMP_EQ, AF_INET6));
	return err;
}

/* Calls on the sanitizer builds' deny-list that the Kubernetes watcher needs. */
static bool sandbox_k8s_needs(int call)
{
	return call == SCMP_SYS(socket) || call == SCMP_SYS(connect) ||
	       call == SCMP_SYS(setsockopt) || call == SCMP_SYS(socketpair);
}

/* Used only in sanitizer builds, where LeakSanitizer needs these at exit. */
static const int sandbox_denied[] = {
	SCMP_SYS(socket),	   SCMP_SYS(socketpair),   SCMP_SYS(bpf),
	SCMP_SYS(setsockopt),	   SCMP_SYS(bind),	   SCMP_SYS(connect),
	SCMP_SYS(perf_event_open), SCMP_SYS(setuid),	   SCMP_SYS(setgid),
	SCMP_SYS(setresuid),	   SCMP_SYS(setresgid),	   SCMP_SYS(capset),
	SCMP_SYS(execve),	   SCMP_SYS(execveat),	   SCMP_SYS(io_uring_setup),
	SCMP_SYS(init_module),	   SCMP_SYS(finit_module), SCMP_SYS(mount),
};

static int sandbox_seccomp(const struct capd_ctx *ctx)
{
	scmp_filter_ctx f;
	int err = 0;

	if (CAPD_SANITIZED) {
		f = seccomp_init(SCMP_ACT_ALLOW);
		if (!f)
			return -ENOMEM;
		for (size_t i = 0; i < sizeof(sandbox_denied) / sizeof(sandbox_denied[0]) && !err;
		     i++) {
			if (ctx->cfg->kubernetes && sandbox_k8s_needs(sandbox_denied[i]))
				continue;
			if (ctx->cfg->stats_listen && sandbox_denied[i] == SCMP_SYS(setsockopt))
				/* the metrics endpoint's TCP options, as in the allow-list */
				err = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS,
						       SCMP_SYS(setsockopt), 1,
						       SCMP_A1(SCMP_CMP_NE, IPPROTO_TCP));
			else
				err = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, sandbox_denied[i],
						       0);
		}
		/* The watcher's TCP sockets stay allowed; packet and netlink sockets never. */
		if (!err && ctx->cfg->kubernetes)
			err = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, SCMP_SYS(socket), 1,
					       SCMP_A0(SCMP_CMP_EQ, AF_PACKET));
		if (!err && ctx->cfg->kubernetes)
			err = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, SCMP_SYS(socket), 1,
					       SCMP_A0(SCMP_CMP_EQ, AF_NETLINK));
		goto load;
	}
	f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!f)
		return -ENOMEM;
	err = sandbox_allow_list(f, sandbox_allowed,
				 sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]));
	if (!err && ctx->persister)
		err = sandbox_allow_list(f, sandbox_storage_allowed,
					 sizeof(sandbox_storage_allowed) /
						 sizeof(sandbox_storage_allowed[0]));
	if (!err && ctx->cfg->kubernetes)
		err = sandbox_allow_k8s(f);
	else if (!err && ctx->cfg->stats_listen)
		err = sandbox_allow_http(f); /* the watcher's list allows every setsockopt */
	/* Memory, but never executable memory. */
	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!err)
		err = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
load:
	if (!err)
		err = seccomp_load(f);
	seccomp_release(f);
	return err;
}

int capd_sandbox_enter(struct capd_ctx *ctx)
{
	int ruleset = capd_landlock_prepare(ctx); /* as root: opens the allowed paths */
	int err;

	if (ruleset < -1)
		return ruleset;
	err = sandbox_drop_caps(ctx);
	if (err)
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		capd_log("cannot set no_new_privs: %s", strerror(-err));
		goto fail;
	}
	err = capd_landlock_restrict(ruleset);
	ruleset = -1;
	if (err)
		return err;
	err = sandbox_seccomp(ctx);
	if (err) {
		capd_log("cannot install the seccomp filter: %s", strerror(-err));
		return err;
	}
	capd_log("dropped to uid %u gid %u: no capabilities, no_new_privs, seccomp allow-list",
		 ctx->uid, ctx->gid);
	return 0;
fail:
	if (ruleset >= 0)
		close(ruleset);
	return err;
}
