#ifndef CLIBSSH2_SHIM_H
#define CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <libssh2_sftp.h>

// libssh2 exposes much of its API as function-like macros, which Swift does not import.
static inline LIBSSH2_SESSION *cssh2_session_init(void) { return libssh2_session_init_ex(NULL, NULL, NULL, NULL); }
static inline LIBSSH2_CHANNEL *cssh2_channel_open_session(LIBSSH2_SESSION *s) { return libssh2_channel_open_session(s); }
static inline int cssh2_channel_exec(LIBSSH2_CHANNEL *c, const char *command) { return libssh2_channel_exec(c, command); }
static inline ssize_t cssh2_channel_read(LIBSSH2_CHANNEL *c, char *buffer, size_t size) { return libssh2_channel_read(c, buffer, size); }
static inline ssize_t cssh2_channel_read_stderr(LIBSSH2_CHANNEL *c, char *buffer, size_t size) { return libssh2_channel_read_stderr(c, buffer, size); }
static inline ssize_t cssh2_channel_write(LIBSSH2_CHANNEL *c, const char *buffer, size_t size) { return libssh2_channel_write(c, buffer, size); }
static inline int cssh2_channel_eof_send(LIBSSH2_CHANNEL *c) { return libssh2_channel_send_eof(c); }
static inline int cssh2_session_disconnect(LIBSSH2_SESSION *s, const char *why) { return libssh2_session_disconnect(s, why); }
static inline int cssh2_userauth_publickey_fromfile(LIBSSH2_SESSION *s, const char *user, const char *privateKey, const char *passphrase) {
    return libssh2_userauth_publickey_fromfile(s, user, NULL, privateKey, passphrase);
}
static inline LIBSSH2_SFTP_HANDLE *cssh2_sftp_open(LIBSSH2_SFTP *sftp, const char *path, unsigned long flags, long mode) {
    return libssh2_sftp_open(sftp, path, flags, mode);
}
static inline int cssh2_sftp_close(LIBSSH2_SFTP_HANDLE *handle) { return libssh2_sftp_close(handle); }
static inline int cssh2_sftp_rename(LIBSSH2_SFTP *sftp, const char *from, const char *to) {
    return libssh2_sftp_rename_ex(sftp, from, (unsigned int)strlen(from), to, (unsigned int)strlen(to),
        LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE);
}
static inline int cssh2_sftp_unlink(LIBSSH2_SFTP *sftp, const char *path) { return libssh2_sftp_unlink(sftp, path); }
static inline LIBSSH2_CHANNEL *cssh2_channel_direct_tcpip(LIBSSH2_SESSION *s, const char *host, int port) {
    return libssh2_channel_direct_tcpip(s, host, port);
}
#endif
