/* tunnel-rendezvous: the public rendezvous server (SPEC.md "Programs").
 * Parses options, loads the key, prints the public key, runs the loop.
 * Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad usage or key file. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/number.h"
#include "crypto/keys.h"
#include "rendezvous/keyfile.h"
#include "rendezvous/loop.h"
#include "rendezvous/server.h"
#include "tunnel_version.h"

static const char usage[] =
	"usage: tunnel-rendezvous --key FILE [--listen ADDR:PORT]... [--foreground]\n"
	"                         [--max-peers N] [--lease S] [--relay-rate BYTES_PER_S]\n"
	"                         [--stun-rate N] [--source-rate N] [--max-per-source N]\n"
	"                         [--allowed-keys FILE] [--stats FILE] [--alt-port PORT]\n"
	"                         [--no-channels] [--threads N] [--verbose]\n"
	"  --key FILE        base64 private key (mode 0600), as `tunnelctl genkey` prints\n"
	"  --listen A:P      UDP address to serve (repeatable; default 0.0.0.0:3478 and [::]:3478)\n"
	"  --foreground      stay in the foreground and log to stderr\n"
	"  --max-peers N     registrations held at most (default 10000)\n"
	"  --lease S         registration lease in seconds (default 120)\n"
	"  --relay-rate B    relayed bytes per second per peer (default 4194304)\n"
	"  --no-channels     relay only in RELAY messages, as servers before relay\n"
	"                    channels did (for comparisons; CHANNEL_OPEN goes unanswered)\n"
	"  --stun-rate N     STUN Binding responses per second per source (default 10)\n"
	"  --source-rate N   key agreements for unknown keys per second per source (default 20)\n"
	"  --max-per-source N  registrations per IPv4 address or IPv6 /64 (default 64)\n"
	"  --allowed-keys FILE  only these public keys (one base64 key per line, # comments)\n"
	"                    may register; others get no reply; reloaded on SIGHUP\n"
	"  --stats FILE      write counters to FILE on SIGUSR1 and at exit\n"
	"  --threads N       worker threads, each with its own sockets (SO_REUSEPORT);\n"
	"                    default: the CPUs it may use, at most 4\n"
	"  --alt-port PORT   also serve every listen address on PORT (off by default);\n"
	"                    STUN answers name the other port (RFC 5780 OTHER-ADDRESS), so\n"
	"                    clients (tunnelctl netcheck) learn whether their NAT maps per\n"
	"                    destination\n"
	"  --version         print the version and exit\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "max-peers", required_argument, NULL, 'm' },
		{ "lease", required_argument, NULL, 'L' },
		{ "relay-rate", required_argument, NULL, 'r' },
		{ "stun-rate", required_argument, NULL, 's' },
		{ "source-rate", required_argument, NULL, 'c' },
		{ "max-per-source", required_argument, NULL, 'P' },
		{ "allowed-keys", required_argument, NULL, 'A' },
		{ "stats", required_argument, NULL, 'S' },
		{ "alt-port", required_argument, NULL, 'a' },
		{ "no-channels", no_argument, NULL, 'N' },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rdv_loop_config lc = { .daemonize = true, .threads = rdv_loop_threads_auto() };
	struct rdv_server_config cfg;
	struct rdv_server *srv;
	const char *key_path = NULL;
	char pub[KEY_BASE64_SIZE];
	int fds[RDV_LOOP_LISTEN_MAX * RDV_LOOP_THREADS_MAX];
	bool verbose = false, default_listen = false;
	uint16_t alt_port = 0;
	size_t n_primary;
	uint64_t v;
	sigset_t sigs;
	int opt, r;

	rdv_server_config_defaults(&cfg);
	while ((opt = getopt_long(argc, argv, "k:l:fm:L:r:s:c:P:A:S:a:Nt:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			key_path = optarg;
			break;
		case 'l':
			if (lc.n_listen == RDV_LOOP_LISTEN_MAX) {
				fprintf(stderr, "tunnel-rendezvous: at most %d --listen\n",
					RDV_LOOP_LISTEN_MAX);
				return 2;
			}
			if (rdv_endpoint_parse(&lc.listen[lc.n_listen++], optarg, true) < 0) {
				fprintf(stderr, "tunnel-rendezvous: bad --listen address '%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			lc.daemonize = false;
			break;
		case 'm':
		case 'L':
		case 'r':
		case 's':
		case 'c':
		case 'P':
			if (number_parse_uint(optarg, opt == 'L' ? RDV_LEASE_MAX_S : 1ul << 30, &v) < 0 ||
			    v == 0) {
				fprintf(stderr, "tunnel-rendezvous: bad number '%s'\n", optarg);
				return 2;
			}
			if (opt == 'm')
				cfg.max_peers = v;
			else if (opt == 'L')
				cfg.lease_s = (uint32_t)v;
			else if (opt == 'r')
				cfg.relay_rate = (uint32_t)v;
			else if (opt == 'P')
				cfg.max_per_source = v;
			else if (opt == 's')
				cfg.stun_rate = (uint32_t)v, cfg.stun_burst = (uint32_t)(2 * v);
			else
				cfg.crypto_rate = (uint32_t)v, cfg.crypto_burst = (uint32_t)(2 * v);
			break;
		case 'S':
			lc.stats_path = optarg;
			break;
		case 'A':
			lc.allowed_keys_path = optarg;
			break;
		case 'a':
			if (number_parse_uint(optarg, 65535, &v) < 0 || v == 0) {
				fprintf(stderr, "tunnel-rendezvous: bad --alt-port '%s'\n", optarg);
				return 2;
			}
			alt_port = (uint16_t)v;
			break;
		case 'N':
			cfg.no_channels = true;
			break;
		case 't':
			if (number_parse_uint(optarg, RDV_LOOP_THREADS_MAX, &v) < 0 || v == 0) {
				fprintf(stderr, "tunnel-rendezvous: bad --threads '%s' (1 to %d)\n",
					optarg, RDV_LOOP_THREADS_MAX);
				return 2;
			}
			lc.threads = (unsigned)v;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			if (TUNNEL_REVISION[0])
				printf("tunnel-rendezvous %s (git %s)\n", TUNNEL_VERSION, TUNNEL_REVISION);
			else
				printf("tunnel-rendezvous %s\n", TUNNEL_VERSION);
			return fflush(stdout) == 0 ? 0 : 1;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!key_path || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (lc.n_listen == 0) {
		if (rdv_endpoint_parse(&lc.listen[0], "0.0.0.0:3478", false) < 0 ||
		    rdv_endpoint_parse(&lc.listen[1], "[::]:3478", false) < 0)
			return 1;
		lc.n_listen = 2;
		default_listen = true;
	}
	/* --alt-port: each listen address once more on the other port, after
	 * the primary ones (listen[i + n_primary] pairs with listen[i]). */
	n_primary = lc.n_listen;
	if (alt_port) {
		if (2 * n_primary > RDV_LOOP_LISTEN_MAX) {
			fprintf(stderr, "tunnel-rendezvous: at most %d --listen with --alt-port\n",
				RDV_LOOP_LISTEN_MAX / 2);
			return 2;
		}
		for (size_t i = 0; i < n_primary; i++) {
			if (lc.listen[i].port == alt_port) {
				fprintf(stderr, "tunnel-rendezvous: --alt-port %u is a --listen port\n",
					(unsigned)alt_port);
				return 2;
			}
			lc.listen[n_primary + i] = lc.listen[i];
			lc.listen[n_primary + i].port = alt_port;
		}
		lc.n_listen = 2 * n_primary;
	}
	log_open("tunnel-rendezvous", false, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	/* Block the loop's signals before anyone can learn we are up (the public
	 * key line): a SIGUSR1 that early must queue, not kill. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 || sodium_init() < 0)
		return 1;
	r = keyfile_read(key_path, cfg.private_key);
	if (r < 0) {
		fprintf(stderr, "tunnel-rendezvous: %s: %s\n", key_path,
			r == -EPERM ? "readable by others, refusing (chmod 600)"
			: r == -EINVAL ? "not a base64 private key"
				      : strerror(-r));
		return 2;
	}
	srv = rdv_server_new(&cfg);
	sodium_memzero(cfg.private_key, sizeof(cfg.private_key));
	if (!srv) {
		fprintf(stderr, "tunnel-rendezvous: cannot start: %s\n", strerror(errno));
		return 1;
	}
	if (rdv_loop_load_allowed(srv, &lc) < 0) {
		rdv_server_free(srv);
		return 2;
	}
	r = rdv_loop_open(&lc, fds);
	if (r == -EAFNOSUPPORT && default_listen) {
		/* A host without IPv6 still serves the default IPv4 address. */
		log_warn("no IPv6 here: listening on IPv4 only");
		if (alt_port)
			lc.listen[1] = lc.listen[2]; /* 0.0.0.0:ALT */
		n_primary = 1;
		lc.n_listen = alt_port ? 2 : 1;
		r = rdv_loop_open(&lc, fds);
	}
	for (size_t i = 0; r == 0 && alt_port && i < n_primary; i++) {
		r = rdv_server_set_other_address(srv, fds[i], &lc.listen[n_primary + i]);
		if (r == 0)
			r = rdv_server_set_other_address(srv, fds[n_primary + i], &lc.listen[i]);
		if (r)
			rdv_loop_close(&lc, fds);
	}
	if (r < 0) {
		rdv_server_free(srv);
		return 1;
	}
	keys_to_base64(pub, rdv_server_public_key(srv));
	printf("%s\n", pub);
	fflush(stdout);
	for (size_t i = 0; i < lc.n_listen; i++) {
		char s[RDV_ENDPOINT_STR];

		log_info("listening on %s", rdv_endpoint_str(&lc.listen[i], s, sizeof(s)));
	}
	log_info("%u worker thread%s", lc.threads, lc.threads == 1 ? "" : "s");
	if (lc.daemonize) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, "tunnel-rendezvous: cannot daemonize: %s\n", strerror(errno));
			rdv_server_free(srv);
			return 1;
		}
		log_open("tunnel-rendezvous", true, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	}
	/* Type=notify: the sockets are bound, peers can register. */
	notify_ready("serving");
	r = rdv_loop_run(srv, &lc, fds);
	rdv_loop_close(&lc, fds);
	rdv_server_free(srv);
	return r < 0 ? 1 : 0;
}
