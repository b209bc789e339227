/*
** relext.h -- the public entry point of relext, Django-style relationships
** (ForeignKey, OneToOneField, ManyToManyField) for SQLite.
**
** Loadable:  .load ./relext
**            sqlite3_load_extension(db, "./relext", 0, &zErr);
** Static:    sqlite3_auto_extension((void (*)(void))sqlite3_relext_init);
**
** See README.md for the SQL interface.
*/
#ifndef RELEXT_H
#define RELEXT_H

#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Register relext on db and bring the relationships declared in db's
** catalog into force for this connection. */
int sqlite3_relext_init(sqlite3 *db, char **pzErrMsg,
                        const sqlite3_api_routines *pApi);

#ifdef __cplusplus
}
#endif

#endif /* RELEXT_H */
