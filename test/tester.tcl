# tester.tcl -- relext's small test harness, in the spirit of SQLite's
# tester.tcl, for plain tclsh with Debian's libsqlite3-tcl.
#
#   do_execsql_test NAME SQL EXPECTED   run SQL on db, compare the flat list
#   do_catchsql_test NAME SQL EXPECTED  expect {0 result} or {1 errmsg}
#   do_test NAME SCRIPT EXPECTED        run a Tcl script, compare its result
#   do_eqp_test NAME SQL PATTERN        EXPLAIN QUERY PLAN details must match
#                                       the glob PATTERN
#   do_norelext_test NAME SQL ?DB?      SQL is refused for want of relext
#   reset_db                            close db, open a new test.db with
#                                       relext loaded
#   load_relext HANDLE                  load relext into another connection
#
# The extension path comes from the environment (RELEXT_EXT), set by all.tcl.
package require sqlite3

set ::nPass 0
set ::nFail 0
set ::ext [expr {[info exists ::env(RELEXT_EXT)] ? $::env(RELEXT_EXT) : "./relext"}]
set ::testdir [file dirname [file normalize [info script]]]
set ::tmpdir [expr {[info exists ::env(RELEXT_TMP)] ? $::env(RELEXT_TMP) : "/tmp"}]
set ::testdb [file join $::tmpdir "relext-test-[pid].db"]

proc load_relext {h} {
  $h enable_load_extension 1
  $h eval {SELECT load_extension($::ext)}
  $h enable_load_extension 0
}

proc delete_db {f} {
  foreach s {"" -journal -wal -shm} { file delete -force $f$s }
}

proc reset_db {} {
  catch {db close}
  delete_db $::testdb
  sqlite3 db $::testdb
  load_relext db
}

proc reopen_db {} {
  catch {db close}
  sqlite3 db $::testdb
  load_relext db
}

proc test_result {name ok got expected} {
  if {$ok} {
    incr ::nPass
  } else {
    incr ::nFail
    puts "! $name failed"
    puts "!   expected: \[$expected\]"
    puts "!   got:      \[$got\]"
  }
}

proc do_execsql_test {name sql expected} {
  if {[catch {db eval $sql} got]} { set got [list ERROR $got] }
  test_result $name [expr {$got eq [list {*}$expected]}] $got $expected
}

proc do_catchsql_test {name sql expected} {
  set rc [catch {db eval $sql} msg]
  set got [list $rc $msg]
  test_result $name [expr {$got eq [list {*}$expected]}] $got $expected
}

proc do_test {name script expected} {
  if {[catch {uplevel 1 $script} got]} { set got [list ERROR $got] }
  test_result $name [expr {$got eq $expected}] $got $expected
}

proc do_eqp_test {name sql pattern} {
  set plan [join [db eval "EXPLAIN QUERY PLAN $sql" {} { set x $detail }] "\n"]
  set lines {}
  db eval "EXPLAIN QUERY PLAN $sql" { lappend lines $detail }
  set got [join $lines "\n"]
  test_result $name [string match $pattern $got] $got $pattern
}

# Expect SQL to be refused because relext is not loaded: SQLite words the
# missing guard function as "no such function: relext_must_be_loaded" (in a
# trigger) or "unknown function: relext_must_be_loaded()" (in an index).
proc do_norelext_test {name sql {handle db}} {
  set rc [catch {$handle eval $sql} msg]
  set ok [expr {$rc == 1 && [regexp {^(no such|unknown) function: relext_must_be_loaded(\(\))?$} $msg]}]
  test_result $name $ok [list $rc $msg] {1 {no such/unknown function: relext_must_be_loaded}}
}

# The extended error code of the last error on db, as a name.
proc errcode {} { db errorcode }

proc finish_test {} {
  catch {db close}
  delete_db $::testdb
  puts "[file tail [info script]]: $::nPass passed, $::nFail failed"
  # Report to all.tcl on a line of its own.
  puts "@@RESULT $::nPass $::nFail"
}

#-------------------------------------------------------------------------
# Refusals (issue 14: a DELETE that Django refuses fails at that statement).
#
#   do_refused_test NAME SQL EXPECTED
#       SQL must fail with a SQLITE_CONSTRAINT code (19, or an extended
#       19+256k) and relext's message EXPECTED: either as the error message
#       itself, or -- when relext can decide only at the end of the
#       statement -- as SQLite's "FOREIGN KEY constraint failed" with
#       SELECT rel_last_error() returning EXPECTED.
#   do_refused_oneof_test NAME SQL LIST
#       the same, where any message of LIST is right (several rows or
#       relationships block, and relext names one of them).
#   do_refused_or_commit_test NAME DEL REST CHECK MSGS ROWS_DEL ROWS_COMMIT
#       inside an open transaction, where relext may have to wait for COMMIT
#       (PRAGMA foreign_keys=OFF): either DEL is refused as above and then
#       REST (the later statements and the COMMIT) succeeds and CHECK gives
#       ROWS_DEL; or DEL is accepted, REST fails at the COMMIT with the same
#       message (directly or through rel_last_error()), no transaction is
#       left open, and CHECK gives ROWS_COMMIT (the data from before BEGIN)
#       -- or REST succeeds and CHECK gives ROWS_DEL (a ROLLBACK TO in REST
#       discarded the refused work). MSGS is a list of acceptable messages.
#
# A message in a list given as "glob:PATTERN" matches by [string match].

proc refusal_msg_ok {msgs got} {
  foreach m $msgs {
    if {[string match glob:* $m]} {
      if {[string match [string range $m 5 end] $got]} { return 1 }
    } elseif {$m eq $got} {
      return 1
    }
  }
  return 0
}

# Run SQL expecting a relext refusal; returns {ok description}.
proc refusal_check {sql msgs} {
  set rc [catch {db eval $sql} msg]
  set code [db errorcode]
  if {!$rc} { return [list 0 [list accepted: $msg]] }
  set last {}
  if {$msg eq "FOREIGN KEY constraint failed"} {
    if {[catch {db onecolumn {SELECT rel_last_error()}} last]} {
      set last [list ERROR $last]
    }
  }
  set codeok [expr {($code & 0xff) == 19}]
  set ok [expr {$codeok && ([refusal_msg_ok $msgs $msg]
        || ($msg eq "FOREIGN KEY constraint failed" && [refusal_msg_ok $msgs $last]))}]
  return [list $ok [list code $code msg $msg rel_last_error $last]]
}

proc do_refused_test {name sql expected} {
  lassign [refusal_check $sql [list $expected]] ok got
  test_result $name $ok $got "code 19 and \[$expected\] (or FOREIGN KEY constraint failed + rel_last_error)"
}

proc do_refused_oneof_test {name sql msgs} {
  lassign [refusal_check $sql $msgs] ok got
  test_result $name $ok $got "code 19 and one of \[[join $msgs {] [}]\]"
}

# 1 when no transaction is open on db.
proc no_txn_open {} {
  set rc [catch {db eval ROLLBACK} msg]
  expr {$rc && [string match "cannot rollback - no transaction is active" $msg]}
}

proc do_refused_or_commit_test {name del rest check msgs rowsDel rowsCommit} {
  set rc [catch {db eval $del} msg]
  set code [db errorcode]
  if {$rc} {
    # Refused at the DELETE: judge it as do_refused_test does, then the
    # transaction must go on.
    set last {}
    if {$msg eq "FOREIGN KEY constraint failed"} {
      catch {db onecolumn {SELECT rel_last_error()}} last
    }
    set ok [expr {($code & 0xff) == 19 && ([refusal_msg_ok $msgs $msg]
          || ($msg eq "FOREIGN KEY constraint failed" && [refusal_msg_ok $msgs $last]))}]
    set got [list refused at the statement: $msg $last]
    if {[catch {db eval $rest} m2]} {
      set ok 0
      lappend got then: $m2
      catch {db eval ROLLBACK}
    }
    set rows [db eval $check]
    if {$rows ne [list {*}$rowsDel]} { set ok 0 }
    lappend got rows: $rows
    test_result $name $ok $got "refused at the DELETE or at COMMIT with \[[join $msgs {] [}]\]; rows $rowsDel"
    return
  }
  # Accepted: COMMIT must refuse it (or a ROLLBACK TO in REST discards it).
  set rc [catch {db eval $rest} msg]
  set code [db errorcode]
  set got [list accepted at the statement, then: $rc $msg]
  if {$rc} {
    set last {}
    if {$msg eq "FOREIGN KEY constraint failed"} {
      catch {db onecolumn {SELECT rel_last_error()}} last
    }
    set ok [expr {($code & 0xff) == 19 && ([refusal_msg_ok $msgs $msg]
          || ($msg eq "FOREIGN KEY constraint failed" && [refusal_msg_ok $msgs $last]))}]
    if {![no_txn_open]} { set ok 0; lappend got {transaction left open} }
    catch {db eval ROLLBACK}
    set want $rowsCommit
  } else {
    set ok 1
    set want $rowsDel
  }
  set rows [db eval $check]
  if {$rows ne [list {*}$want]} { set ok 0 }
  lappend got rows: $rows
  test_result $name $ok $got "refused at the DELETE or at COMMIT with \[[join $msgs {] [}]\]; rows $rowsDel (refused at the DELETE) or $rowsCommit (at COMMIT)"
}
