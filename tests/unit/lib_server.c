// SPDX-License-Identifier: MIT
/*
 * lib_server.c - for lib/'s tests that need a server but not control over
 * it: a listener thread on 127.0.0.1:<ephemeral> serving each connection
 * with vgpu_session_serve (sim backend) in a thread, VGPU_SERVER pointing
 * the library at it, and the primary-context helpers the cases share.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "server/server.h"
#include "tests/unit/lib_server.h"

static void *session_thread(void *arg)
{
	struct vgpu_server_config cfg = { .backend = VGPU_BACKEND_SIM, .sim_mem_bytes = 256 << 20 };
	int fd = (int)(intptr_t)arg;

	vgpu_session_serve(fd, &cfg, 1);
	close(fd);
	return NULL;
}

static void *listener_thread(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t th;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		if (pthread_create(&th, NULL, session_thread, (void *)(intptr_t)fd) == 0)
			pthread_detach(th);
		else
			close(fd);
	}
}

int lib_server_start(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	pthread_t th;
	char hp[64];
	int lfd;

	vgpu_log_init("lib_server", VGPU_LOG_ERR, 0);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al))
		return -1;
	if (pthread_create(&th, NULL, listener_thread, (void *)(intptr_t)lfd))
		return -1;
	pthread_detach(th);
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", ntohs(a.sin_port));
	setenv("VGPU_SERVER", hp, 1);
	unsetenv("VGPU_DEVICE");
	return 0;
}

CUcontext make_ctx(void)
{
	CUcontext c;

	assert_int_equal(cuInit(0), CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxRetain(&c, 0), CUDA_SUCCESS);
	assert_int_equal(cuCtxSetCurrent(c), CUDA_SUCCESS);
	return c;
}

void drop_ctx(void)
{
	cuCtxSetCurrent(NULL);
	assert_int_equal(cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);
}

