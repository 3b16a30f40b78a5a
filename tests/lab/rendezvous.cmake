# Lab test of tunnel-rendezvous behind real NATs (tests/lab/test_rendezvous.sh):
# introductions, no leaks to strangers, wrong server key, the Debian stun
# client, relay byte-exactness and its rate limit. Needs root; skips (77)
# without it.
tunnel_script_test(NAME lab_rendezvous COMMAND tests/lab/test_rendezvous.sh LABELS lab TIMEOUT 180)
