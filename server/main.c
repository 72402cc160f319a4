// SPDX-License-Identifier: MIT
/*
 * main.c - vgpu-server: accept TCP connections and serve each one as a
 * session in its own forked process (docs/SERVER.md says why).  The parent
 * only accepts, forks, reaps and keeps the shared tables tidy (session
 * stats; partitions: a dead session's bytes go back to its partition); it
 * never initialises CUDA, so a fork never inherits a driver context.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/partition.h"
#include "server/server.h"
#include "server/sim.h"

#define DEFAULT_LISTEN		"0.0.0.0:7070"
#define DEFAULT_MAX_SESSIONS	256

struct opts {
	const char *listen;
	struct vgpu_server_config cfg;
	int log_level;
	int use_syslog;
	unsigned int max_sessions;
	const char *partitions;		/* --partitions FILE, or NULL */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vgpu-server --backend cuda|sim [options]\n"
		"  --listen HOST:PORT   address to listen on (default " DEFAULT_LISTEN
		"; port 0 = any,\n"
		"                       the chosen one is printed as \"listening on HOST:PORT\")\n"
		"  --backend cuda|sim   real GPUs through libcuda.so.1, or the host-memory sim\n"
		"  --sim-mem BYTES      sim device size (default 1G; suffixes K, M, G)\n"
		"  --sim-va-slot N      sim addresses start at slice N of %u (default: random,\n"
		"                       so that two servers' addresses rarely meet)\n"
		"  --max-sessions N     concurrent sessions (default %d)\n"
		"  --log-level LEVEL    err, warn, info (default) or debug\n"
		"  --syslog             log to syslog instead of stderr\n"
		"  --admin-any          accept partition administration from any peer\n"
		"                       (default: loopback only)\n"
		"  --spatial            partitions' compute shares as SM limits under NVIDIA MPS\n"
		"                       (side by side; a fatal fault may reach the others),\n"
		"                       else time-sliced\n"
		"  --partitions FILE    create the partitions FILE describes at start\n",
		SIM_VA_SLOTS, DEFAULT_MAX_SESSIONS);
}

/* "123", "64K", "512M", "1G" -> bytes; 0 on error. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')	/* accept "1GiB", "1GB" too */
		end += strspn(end, "iB");
	if (*end || v > UINT64_MAX / mul)
		return 0;
	return v * mul;
}

/* The first sim address slice: random, as two servers should not start at the same one. */
static uint32_t sim_random_slot(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	return v % SIM_VA_SLOTS;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "backend", required_argument, NULL, 'b' },
		{ "sim-mem", required_argument, NULL, 'm' },
		{ "sim-va-slot", required_argument, NULL, 'V' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "syslog", no_argument, NULL, 's' },
		{ "max-sessions", required_argument, NULL, 'n' },
		{ "admin-any", no_argument, NULL, 'A' },
		{ "spatial", no_argument, NULL, 'S' },
		{ "partitions", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct opts){ .listen = DEFAULT_LISTEN, .log_level = VGPU_LOG_INFO,
			    .max_sessions = DEFAULT_MAX_SESSIONS,
			    .cfg.sim_mem_bytes = VGPU_SIM_DEFAULT_MEM };
	o->cfg.sim_va_slot = sim_random_slot();
	while ((c = getopt_long(argc, argv, "l:b:m:L:sn:h", lo, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'b':
			if (!strcmp(optarg, "cuda"))
				o->cfg.backend = VGPU_BACKEND_CUDA;
			else if (!strcmp(optarg, "sim"))
				o->cfg.backend = VGPU_BACKEND_SIM;
			else
				return fprintf(stderr, "vgpu-server: unknown backend '%s'\n", optarg), -1;
			break;
		case 'm':
			o->cfg.sim_mem_bytes = parse_size(optarg);
			if (!o->cfg.sim_mem_bytes)
				return fprintf(stderr, "vgpu-server: bad --sim-mem '%s'\n", optarg), -1;
			break;
		case 'V': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 0);

			if (*end || end == optarg || v >= SIM_VA_SLOTS)
				return fprintf(stderr, "vgpu-server: bad --sim-va-slot '%s'\n",
					       optarg), -1;
			o->cfg.sim_va_slot = (uint32_t)v;
			break;
		}
		case 'L':
			o->log_level = vgpu_log_parse_level(optarg);
			if (o->log_level < 0)
				return fprintf(stderr, "vgpu-server: bad --log-level '%s'\n", optarg), -1;
			break;
		case 's':
			o->use_syslog = 1;
			break;
		case 'A':
			o->cfg.admin_any = true;
			break;
		case 'S':
			o->cfg.spatial = true;
			break;
		case 'P':
			o->partitions = optarg;
			break;
		case 'n': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || !n || n > 65536)
				return fprintf(stderr, "vgpu-server: bad --max-sessions '%s'\n", optarg), -1;
			o->max_sessions = (unsigned int)n;
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc)
		return fprintf(stderr, "vgpu-server: unexpected argument '%s'\n", argv[optind]), -1;
	if (!o->cfg.backend)
		return fprintf(stderr, "vgpu-server: --backend cuda|sim is required\n"), -1;
	return 0;
}

/* Bind and listen on "host:port" / "[v6]:port"; prints the bound address. */
static int listen_on(const char *hp)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[32], nh[NI_MAXHOST], np[NI_MAXSERV];
	const char *colon, *h = hp;
	size_t hl;
	int fd = -1, one = 1, err;

	if (hp[0] == '[') {
		const char *e = strchr(hp, ']');

		if (!e || e[1] != ':')
			return -EINVAL;
		h = hp + 1;
		hl = e - h;
		colon = e + 1;
	} else {
		colon = strrchr(hp, ':');
		if (!colon)
			return -EINVAL;
		hl = colon - hp;
	}
	if (hl >= sizeof(host) || strlen(colon + 1) >= sizeof(port))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	err = getaddrinfo(hl ? host : NULL, port, &hints, &res);
	if (err) {
		log_err("cannot resolve %s: %s", hp, gai_strerror(err));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 128))
			break;
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		err = errno;
		log_err("cannot listen on %s: %s", hp, strerror(err));
		return -err;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	getnameinfo((struct sockaddr *)&ss, sl, nh, sizeof(nh), np, sizeof(np),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	/* tests and scripts read the port from this exact line */
	if (ss.ss_family == AF_INET6)
		printf("listening on [%s]:%s\n", nh, np);
	else
		printf("listening on %s:%s\n", nh, np);
	fflush(stdout);
	return fd;
}

static void reap(struct vgpu_stats_table *t, struct vgpu_partitions *parts)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		/* a session that died attached still holds bytes and a session count */
		vgpu_part_reap(parts, (int)pid);
		vgpu_stats_release_pid(t, pid);
		if (WIFSIGNALED(st))
			log_warn("session process %d killed by signal %d", (int)pid, WTERMSIG(st));
		else
			log_info("session process %d exited with %d", (int)pid, WEXITSTATUS(st));
	}
}

static unsigned int live_sessions(const struct vgpu_stats_table *t)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < t->nslots; i++)
		n += __atomic_load_n(&t->slots[i].pid, __ATOMIC_ACQUIRE) != 0;
	return n;
}

static void __attribute__((noreturn))
run_child(int conn, int lfd, int sfd, const struct opts *o, struct vgpu_stats_table *t,
	  int slot, uint32_t id, pid_t parent)
{
	sigset_t none;
	int rc;

	close(lfd);
	close(sfd);
	sigemptyset(&none);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* a session must not outlive the server that accounts for it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	vgpu_tcp_tune(conn);
	vgpu_stats_set_pid(t, slot, (int)getpid());
	vgpu_session_attach_stats(t, slot);
	rc = vgpu_session_serve(conn, &o->cfg, id);
	close(conn);
	_exit(rc ? 1 : 0);
}

static void accept_one(int lfd, int sfd, const struct opts *o, struct vgpu_stats_table *t,
		       uint32_t *next_id)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char nh[NI_MAXHOST] = "?", np[NI_MAXSERV] = "?";
	int conn, slot;
	uint32_t id;
	pid_t pid;

	conn = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	getnameinfo((struct sockaddr *)&ss, sl, nh, sizeof(nh), np, sizeof(np),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	id = (*next_id)++;
	if (live_sessions(t) >= o->max_sessions || (slot = vgpu_stats_claim(t, id)) < 0) {
		log_warn("refusing connection from %s:%s: %u sessions already", nh, np,
			 o->max_sessions);
		close(conn);
		return;
	}
	pid = fork();
	if (pid == 0)
		run_child(conn, lfd, sfd, o, t, slot, id, getppid());
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		vgpu_stats_release(t, slot);
	} else {
		vgpu_stats_set_pid(t, slot, (int)pid);
		log_info("session %u: %s:%s in process %d", id, nh, np, (int)pid);
	}
	close(conn);
}

/* Kill every session and wait for them: SIGTERM, then SIGKILL after 2 s. */
static void stop_sessions(struct vgpu_stats_table *t, struct vgpu_partitions *parts)
{
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < t->nslots; i++) {
			int pid = __atomic_load_n(&t->slots[i].pid, __ATOMIC_ACQUIRE);

			if (pid > 0)
				kill(pid, round ? SIGKILL : SIGTERM);
		}
		for (int ms = 0; ms < 2000 && live_sessions(t); ms += 10) {
			reap(t, parts);
			usleep(10000);
		}
		reap(t, parts);
		if (!live_sessions(t))
			return;
	}
}

int main(int argc, char **argv)
{
	struct vgpu_stats_table tab;
	struct vgpu_partitions parts;
	struct opts o;
	sigset_t mask;
	uint32_t next_id = 1;
	int lfd, sfd, ret;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	vgpu_log_init("vgpu-server", (enum vgpu_log_level)o.log_level, o.use_syslog);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return 1;
	}
	ret = vgpu_stats_create(&tab, o.max_sessions);
	if (ret) {
		log_err("stats table: %s", strerror(-ret));
		return 1;
	}
	/* before any fork: every session maps the same table */
	ret = vgpu_part_table_create(&parts, o.max_sessions);
	if (ret) {
		log_err("partition table: %s", strerror(-ret));
		return 1;
	}
	o.cfg.parts = &parts;
	/* LIST and percentages need the GPUs; a child asks the backend for them */
	ret = vgpu_part_probe(&parts, &o.cfg);
	if (ret && o.partitions) {
		log_err("cannot learn the GPUs for %s: %s", o.partitions, strerror(-ret));
		return 1;
	}
	if (ret)
		log_warn("GPUs not known yet (%s): the first session will describe them",
			 strerror(-ret));
	if (o.partitions && vgpu_part_load(&parts, o.partitions))
		return 1;
	lfd = listen_on(o.listen);
	if (lfd < 0)
		return 1;
	log_info("serving with the %s backend, at most %u sessions",
		 o.cfg.backend == VGPU_BACKEND_SIM ? "sim" : "cuda", o.max_sessions);
	for (;;) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents & POLLIN && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				reap(&tab, &parts);
			} else {
				log_info("signal %u: stopping", si.ssi_signo);
				break;
			}
		}
		if (p[0].revents & POLLIN)
			accept_one(lfd, sfd, &o, &tab, &next_id);
	}
	close(lfd);
	stop_sessions(&tab, &parts);
	vgpu_part_table_destroy(&parts);
	vgpu_stats_destroy(&tab);
	return 0;
}
