/* `tunnelctl genkey`: see cmd_genkey.c. */
#ifndef TUNNEL_CMD_GENKEY_H
#define TUNNEL_CMD_GENKEY_H

/* Prints a new base64 private key; returns the exit code (0, 1, 2). */
int cmd_genkey(int argc, char **argv);

#endif
