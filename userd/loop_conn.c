// SPDX-License-Identifier: MIT
/*
 * loop_conn.c - the loop's side of each channel's server connection (see
 * loop_int.h): CONNECT submitted and completed, address after address;
 * SEND and RECV queued after a batch and their results handed to the
 * channel; the socket dropped once the channel has failed.  The socket
 * itself is conn.c's, the bytes chan.c's.
 */
#include "userd/loop_int.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"

void loop_conn_start(struct loop *l, struct lchan *lc)
{
	int ret = conn_prep_connect(&lc->conn, &l->ring, ud_make(lc, UD_CONNECT),
				    ud_make(NULL, UD_IGNORE), CONN_TIMEOUT_MS);

	if (ret) {
		log_warn("chan %u: cannot connect to %s: %s", lc->id, lc->server, strerror(-ret));
		chan_fail(lc->chan, -ENOTCONN);
		return;
	}
	lc->inflight++;
}

/*
 * Close the socket; a connect in flight is cancelled (its timeout bounds it
 * anyway).  What is queued is submitted first, so no queued SQE can name
 * the fd number after it has been closed (and maybe reused).
 */
void loop_conn_drop(struct loop *l, struct lchan *lc)
{
	if (lc->conn.connecting) {
		struct io_uring_sqe *sqe = uring_sqe(&l->ring);

		if (sqe) {
			io_uring_prep_cancel64(sqe, ud_make(lc, UD_CONNECT), 0);
			io_uring_sqe_set_data64(sqe, ud_make(NULL, UD_IGNORE));
		}
	}
	if (lc->conn.fd >= 0)
		io_uring_submit(&l->ring);
	conn_close(&lc->conn);
}

static void on_connect(struct loop *l, struct lchan *lc, int res)
{
	int ret;

	if (!lc->conn.connecting)
		return;		/* dropped meanwhile */
	ret = conn_connect_done(&lc->conn, res);
	if (!ret) {
		log_debug("chan %u: connected to %s", lc->id, lc->server);
		return;		/* recv and send are queued after the batch */
	}
	if (conn_has_next(&lc->conn)) {
		log_debug("chan %u: connect to %s: %s; trying the next address", lc->id,
			  lc->server, strerror(-ret));
		loop_conn_start(l, lc);
		return;
	}
	log_warn("chan %u: cannot connect to %s: %s", lc->id, lc->server, strerror(-ret));
	chan_fail(lc->chan, -ENOTCONN);
}

static void on_send(struct lchan *lc, int res)
{
	lc->conn.send_busy = false;
	chan_tx_done(lc->chan, res > 0 ? (size_t)res : 0);
	if (res < 0) {
		if (!chan_error(lc->chan))
			log_info("chan %u: send to %s: %s", lc->id, lc->server, strerror(-res));
		chan_conn_lost(lc->chan);
		return;
	}
	chan_process(lc->chan);	/* room for more requests */
}

static void on_recv(struct lchan *lc, int res)
{
	lc->conn.recv_busy = false;
	if (chan_error(lc->chan))
		return;
	if (res <= 0) {
		if (res == 0)
			log_info("chan %u: %s closed the connection", lc->id, lc->server);
		else
			log_info("chan %u: receive from %s: %s", lc->id, lc->server, strerror(-res));
		chan_conn_lost(lc->chan);
		return;
	}
	chan_rx(lc->chan, lc->conn.rxbuf, (size_t)res);
	chan_process(lc->chan);	/* replies free room for more requests */
}

void loop_conn_complete(struct loop *l, struct lchan *lc, enum ud_type type, int res)
{
	if (type == UD_CONNECT)
		on_connect(l, lc, res);
	else if (type == UD_SEND)
		on_send(lc, res);
	else
		on_recv(lc, res);
}

void loop_conn_service(struct loop *l, struct lchan *lc)
{
	struct chan *c = lc->chan;
	int ret = 0;

	if (!chan_error(c) && lc->conn.connected) {
		ret = conn_prep_recv(&lc->conn, &l->ring, ud_make(lc, UD_RECV));
		if (ret > 0)
			lc->inflight++;
		if (ret >= 0) {
			ret = conn_prep_send(&lc->conn, &l->ring, c, ud_make(lc, UD_SEND));
			if (ret > 0)
				lc->inflight++;
		}
		if (ret < 0)
			chan_conn_lost(c);
	}
	if (chan_error(c) && (lc->conn.fd >= 0 || lc->conn.connecting))
		loop_conn_drop(l, lc);
}
