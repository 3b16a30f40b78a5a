/* `tunnelctl pubkey`: see cmd_pubkey.c. */
#ifndef TUNNEL_CMD_PUBKEY_H
#define TUNNEL_CMD_PUBKEY_H

/* Reads a base64 private key on stdin, prints its public key; returns the
 * exit code (0, 1 bad key or I/O error, 2 bad usage). */
int cmd_pubkey(int argc, char **argv);

#endif
