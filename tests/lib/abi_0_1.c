// SPDX-License-Identifier: MIT
/*
 * abi_0_1.c - compiled (not run) by exports.sh: a function of a released
 * version node keeps its signature, since a program built against the old
 * header calls the same symbol. A change is a new function in a new node
 * (librawcap.map). Here: the ones whose signatures were once changed in place.
 */
#include <rawcap/snapshot.h>

#define SAME_TYPE(f, t) _Static_assert(__builtin_types_compatible_p(__typeof__(&f), t), #f)

/* RAWCAP_0.1 */
SAME_TYPE(rawcap_snapshot_delete, int (*)(const char *, const char *));
SAME_TYPE(rawcap_snapshot_list, int (*)(const char *, char ***, size_t *));
SAME_TYPE(rawcap_snapshot_verify, int (*)(const char *, const char *, char *, size_t));
/* RAWCAP_0.2 */
SAME_TYPE(rawcap_snapshot_delete_why, int (*)(const char *, const char *, char *, size_t));
SAME_TYPE(rawcap_snapshot_list_why, int (*)(const char *, char ***, size_t *, char *, size_t));
