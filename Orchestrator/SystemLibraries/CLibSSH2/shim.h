#ifndef CLIBSSH2_SHIM_H
#define CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <libssh2_sftp.h>
// libssh2 exposes much of its API as function-like macros, which Swift does not import.
static inline LIBSSH2_SESSION *cssh2_session_init(void) { return libssh2_session_init_ex(NULL, NULL, NULL, NULL); }
static inline LIBSSH2_CHANNEL *cssh2_channel_open_session(LIBSSH2_SESSION *s) { return libssh2_channel_open_session(s); }
static inline int cssh2_channel_exec(LIBSSH2_CHANNEL *c, const char *cmd) { return libssh2_channel_exec(c, cmd); }
#endif
