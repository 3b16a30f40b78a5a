/* WireGuard's timers, per peer. Every timer, and what arms it:
 *
 *   retransmit_handshake  armed when an initiation is sent; on expiry resend
 *                         it, every REKEY_TIMEOUT (+ up to 1/3 s of jitter);
 *                         after MAX_TIMER_HANDSHAKES tries stop and drop the
 *                         staged packets (new traffic or a keepalive starts
 *                         over, so a link that is `up` never gives up).
 *   send_keepalive        armed when data arrives; if we have sent nothing
 *                         for KEEPALIVE_TIMEOUT, send an empty message so the
 *                         other side knows the session works (passive).
 *   new_handshake         armed when data is sent; if nothing comes back for
 *                         KEEPALIVE_TIMEOUT + REKEY_TIMEOUT, the session may
 *                         be dead: start a new handshake.
 *   zero_key_material     armed when a keypair is derived; after
 *                         REJECT_AFTER_TIME * 3 without a new one, wipe all
 *                         keys (forward secrecy for an idle link).
 *   persistent_keepalive  pushed back by every authenticated packet; sends a
 *                         keepalive every PersistentKeepalive seconds, which
 *                         holds NAT mappings open.
 * and the path's (tunnel/punch.h, the state table in tunnel/peer.h):
 *   punch.timer           during a burst, the next round of probes every
 *                         PUNCH_INTERVAL_MS (+ up to PUNCH_JITTER_MS); after
 *                         a burst without a direct path, the next burst in
 *                         PUNCH_BACKGROUND_MS.
 *   punch.liveness        armed when data is sent, cancelled by any
 *                         authenticated packet; on expiry (PUNCH_QUIET_MS)
 *                         the path may be dead: peer_unanswered.
 *   pathcheck.pmtu_timer  the path MTU search's next step (pathcheck.c,
 *                         tunnel/pmtu.h's timers), or the probe asking a
 *                         peer without rendezvous whether it answers.
 *   pathcheck.check_timer a liveness check's second round and verdict
 *                         (PATHCHECK_RETRY_MS, PATHCHECK_GIVE_UP_MS).
 *   retransmit_handshake  also armed for HANDSHAKE_DEFER_MS when a new
 *                         direct path leaves the first initiation to the
 *                         peer.
 * (The rendezvous client's refresh timer is the link's, in tunnel/meet.c;
 * birthday probing's pacing timer is tunnel/birthday.c's.)
 *
 * Durations come from crypto/messages.h (enum limits) and tunnel/punch.h
 * (enum punch_timing). */
#include "tunnel/timers.h"

#include <sodium.h>

#include "common/log.h"
#include "tunnel/send.h"
#include "tunnel/tunnel.h"

static struct loop *loop_of(struct peer *peer)
{
	return &peer->tunnel->loop;
}

static uint64_t now(struct peer *peer)
{
	return peer->tunnel->loop.now_ms;
}

/* Arms `t` unless it is already pending (mod_timer_pending semantics are
 * not wanted here: WireGuard only arms these when idle). */
static void arm_if_idle(struct peer *peer, struct loop_timer *t, uint64_t delay_ms)
{
	if (!t->armed)
		loop_timer_arm(loop_of(peer), t, now(peer) + delay_ms);
}

static void arm(struct peer *peer, struct loop_timer *t, uint64_t delay_ms)
{
	loop_timer_arm(loop_of(peer), t, now(peer) + delay_ms);
}

static void retransmit_handshake_expired(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, retransmit_handshake);

	(void)now_ms;
	if (peer->handshake_attempts > MAX_TIMER_HANDSHAKES) {
		log_info("%s: handshake did not complete after %u attempts, giving up until "
			 "there is traffic", peer->tunnel->cfg.name, peer->handshake_attempts);
		peer->handshake_attempts = 0;
		loop_timer_cancel(loop_of(peer), &peer->send_keepalive);
		send_drop_staged(peer);
		/* Wipe the keys soon unless a handshake completes meanwhile. */
		if (!peer->zero_key_material.armed)
			arm(peer, &peer->zero_key_material, REJECT_AFTER_TIME_MS * 3);
		return;
	}
	peer->handshake_attempts++;
	log_debug("%s: handshake did not complete in %d s, retrying (attempt %u)",
		  peer->tunnel->cfg.name, REKEY_TIMEOUT_MS / 1000, peer->handshake_attempts);
	send_handshake_initiation(peer, true);
}

static void send_keepalive_expired(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, send_keepalive);

	(void)now_ms;
	send_keepalive(peer);
	if (peer->need_another_keepalive) {
		peer->need_another_keepalive = false;
		arm(peer, &peer->send_keepalive, KEEPALIVE_TIMEOUT_MS);
	}
}

static void new_handshake_expired(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, new_handshake);

	(void)now_ms;
	log_debug("%s: no reply for %d s, starting a new handshake", peer->tunnel->cfg.name,
		  (KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS) / 1000);
	send_handshake_initiation(peer, false);
}

static void zero_key_material_expired(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, zero_key_material);

	(void)now_ms;
	log_debug("%s: no new keys for %d s, wiping the old ones", peer->tunnel->cfg.name,
		  REJECT_AFTER_TIME_MS * 3 / 1000);
	session_keypairs_clear(&peer->keypairs);
	noise_handshake_clear(&peer->handshake);
}

static void persistent_keepalive_expired(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, persistent_keepalive);

	(void)now_ms;
	if (peer->persistent_keepalive_s)
		send_keepalive(peer);
}

static void probe_timer_expired(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, punch.timer);

	punch_round_due(peer, now_ms);
}

static void liveness_expired(struct loop_timer *t, uint64_t now_ms)
{
	struct peer *peer = container_of(t, struct peer, punch.liveness);

	(void)now_ms;
	peer_unanswered(peer);
}

void timers_init(struct peer *peer)
{
	peer->retransmit_handshake.expired = retransmit_handshake_expired;
	peer->send_keepalive.expired = send_keepalive_expired;
	peer->new_handshake.expired = new_handshake_expired;
	peer->zero_key_material.expired = zero_key_material_expired;
	peer->persistent_keepalive.expired = persistent_keepalive_expired;
	peer->punch.timer.expired = probe_timer_expired;
	peer->punch.liveness.expired = liveness_expired;
}

void timers_stop(struct peer *peer)
{
	loop_timer_cancel(loop_of(peer), &peer->retransmit_handshake);
	loop_timer_cancel(loop_of(peer), &peer->send_keepalive);
	loop_timer_cancel(loop_of(peer), &peer->new_handshake);
	loop_timer_cancel(loop_of(peer), &peer->zero_key_material);
	loop_timer_cancel(loop_of(peer), &peer->persistent_keepalive);
	loop_timer_cancel(loop_of(peer), &peer->punch.timer);
	loop_timer_cancel(loop_of(peer), &peer->punch.liveness);
	loop_timer_cancel(loop_of(peer), &peer->pathcheck.pmtu_timer);
	loop_timer_cancel(loop_of(peer), &peer->pathcheck.check_timer);
}

void timers_data_sent(struct peer *peer)
{
	arm_if_idle(peer, &peer->new_handshake, KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS);
	arm_if_idle(peer, &peer->punch.liveness, PUNCH_QUIET_MS);
	peer->last_data_sent_ms = now(peer);
	pathcheck_data_sent(peer);
}

void timers_data_received(struct peer *peer)
{
	if (peer->send_keepalive.armed)
		peer->need_another_keepalive = true;
	else
		arm(peer, &peer->send_keepalive, KEEPALIVE_TIMEOUT_MS);
}

void timers_any_authenticated_packet_sent(struct peer *peer)
{
	loop_timer_cancel(loop_of(peer), &peer->send_keepalive);
}

void timers_any_authenticated_packet_received(struct peer *peer)
{
	loop_timer_cancel(loop_of(peer), &peer->new_handshake);
	loop_timer_cancel(loop_of(peer), &peer->punch.liveness);
}

void timers_any_authenticated_packet_traversal(struct peer *peer)
{
	if (peer->persistent_keepalive_s)
		arm(peer, &peer->persistent_keepalive, peer->persistent_keepalive_s * 1000ULL);
}

void timers_handshake_initiated(struct peer *peer)
{
	/* Jitter keeps two peers that started together from colliding forever. */
	arm(peer, &peer->retransmit_handshake,
	    REKEY_TIMEOUT_MS + randombytes_uniform(REKEY_TIMEOUT_JITTER_MAX_MS));
}

void timers_handshake_complete(struct peer *peer)
{
	loop_timer_cancel(loop_of(peer), &peer->retransmit_handshake);
	peer->handshake_attempts = 0;
	peer->last_handshake_ms = now(peer);
}

void timers_session_derived(struct peer *peer)
{
	arm(peer, &peer->zero_key_material, REJECT_AFTER_TIME_MS * 3);
}

void timers_handshake_deferred(struct peer *peer)
{
	arm(peer, &peer->retransmit_handshake, HANDSHAKE_DEFER_MS);
}

void timers_pmtu_due(struct peer *peer, uint64_t at_ms)
{
	loop_timer_arm(loop_of(peer), &peer->pathcheck.pmtu_timer, at_ms);
}

void timers_pathcheck_due(struct peer *peer, uint64_t delay_ms)
{
	arm(peer, &peer->pathcheck.check_timer, delay_ms);
}

void timers_path_moved(struct peer *peer)
{
	arm(peer, &peer->send_keepalive, 0);
}

void timers_probe_round_sent(struct peer *peer)
{
	arm(peer, &peer->punch.timer, PUNCH_INTERVAL_MS + randombytes_uniform(PUNCH_JITTER_MS));
}

void timers_burst_ended(struct peer *peer)
{
	arm(peer, &peer->punch.timer, PUNCH_BACKGROUND_MS);
}

void timers_set_persistent_keepalive(struct peer *peer, unsigned seconds)
{
	peer->persistent_keepalive_s = seconds;
	if (seconds)
		arm(peer, &peer->persistent_keepalive, seconds * 1000ULL);
	else
		loop_timer_cancel(loop_of(peer), &peer->persistent_keepalive);
}
