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
#   catchsql SQL                        {0 result} or {1 errmsg} of SQL on db
#   accessors                           the names of db's accessor tables
#   readfile PATH                       the contents of a file
#   run_shell SCRIPT                    what the sqlite3 shell prints for
#                                       SCRIPT on an in-memory database
#   run_make ?-C DIR? ARG...            {status output} of make (-s) in DIR,
#                                       by default the repository root
#   skip_test NAME WHY                  NAME is not run, for the reason WHY
#                                       (a missing program or package)
#   skip_file WHY                       the rest of this file is not run:
#                                       one skip, named after the file
#   finish_test                         report to all.tcl and end the file
#
# Every test counts as passed, failed or skipped, and all.tcl lists every
# skip with its reason: nothing is left out silently.
#
# The extension path comes from the environment (RELEXT_EXT), set by all.tcl.
package require sqlite3

set ::nPass 0
set ::nFail 0
set ::nSkip 0
set ::skips {}
set ::names {}           ;# every test name reported, for uniqueness checks
set ::ext [expr {[info exists ::env(RELEXT_EXT)] ? $::env(RELEXT_EXT) : "./relext"}]
set ::testdir [file dirname [file normalize [info script]]]
set ::rootdir [file dirname $::testdir]
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

# Remember NAME; return 1 when it was already taken.
proc note_name {name} {
  if {[dict exists $::names $name]} { return 1 }
  dict set ::names $name 1
  return 0
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

# Count one result. A name must be unique across the suite: a second test
# of the same name in this file fails here, and all.tcl fails names that
# two files share.
proc test_result {name ok got expected} {
  if {[note_name $name]} {
    incr ::nFail
    puts "! $name: a test of this name already ran in this file"
  } elseif {$ok} {
    incr ::nPass
  } else {
    incr ::nFail
    puts "! $name failed"
    puts "!   expected: \[$expected\]"
    puts "!   got:      \[$got\]"
  }
}

proc catchsql {sql} { list [catch {db eval $sql} msg] $msg }

# The accessor virtual tables of db, by name: relext registers a module
# named after each (no other module of SQLite or relext has '__' in its
# name).
proc accessors {} {
  db eval {SELECT name FROM pragma_module_list WHERE name GLOB '*__*'
           ORDER BY name}
}

proc readfile {path} {
  set fd [open $path]
  set text [read $fd]
  close $fd
  return $text
}

# Run SCRIPT in the sqlite3 shell on an in-memory database and return what
# it printed, stdout and stderr together (a refused statement makes the
# shell exit with status 1: Tcl's note about that is dropped).
proc run_shell {script} {
  catch {exec sqlite3 :memory: << $script 2>@1} out
  regsub {\nchild process exited abnormally$} $out {} out
  return $out
}

# Run `make -s ARG...` in DIR (default: the repository root); return
# {exit-status output}, output with stderr.
proc run_make {args} {
  set dir $::rootdir
  if {[lindex $args 0] eq "-C"} { set dir [lindex $args 1]; set args [lrange $args 2 end] }
  set rc [catch {exec make -C $dir -s --no-print-directory {*}$args 2>@1} out]
  regsub {\nchild process exited abnormally$} $out {} out
  return [list $rc $out]
}

proc do_execsql_test {name sql expected} {
  if {[catch {db eval $sql} got]} { set got [list ERROR $got] }
  test_result $name [expr {$got eq [list {*}$expected]}] $got $expected
}

proc do_catchsql_test {name sql expected} {
  set got [catchsql $sql]
  test_result $name [expr {$got eq [list {*}$expected]}] $got $expected
}

proc do_test {name script expected} {
  if {[catch {uplevel 1 $script} got]} { set got [list ERROR $got] }
  test_result $name [expr {$got eq $expected}] $got $expected
}

proc do_eqp_test {name sql pattern} {
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

# NAME cannot run here; WHY says what is missing (and how to install it).
proc skip_test {name why} {
  if {[note_name $name]} {
    incr ::nFail
    puts "! $name: a test of this name already ran in this file"
    return
  }
  incr ::nSkip
  lappend ::skips [list $name $why]
}

# Nothing more of this file can run: count one skip named after the file,
# report, and leave.
proc skip_file {why} {
  skip_test [file tail [info script]] $why
  finish_test
  exit 0
}

# The extended error code of the last error on db, as a name.
proc errcode {} { db errorcode }

# Under valgrind (make valgrind sets RELEXT_VALGRIND), a large generated
# matrix runs one case in N, so that the whole suite stays affordable in CI:
# `if {![valgrind_sample 4]} return` at the top of a case. Elsewhere every
# case runs. The cases left out are counted as skipped, with the reason.
set ::valgrind_n 0
proc valgrind_sample {n} {
  if {![info exists ::env(RELEXT_VALGRIND)]} { return 1 }
  if {[incr ::valgrind_n] % $n == 0} { return 1 }
  incr ::nSampledOut
  return 0
}
set ::nSampledOut 0

proc finish_test {} {
  catch {db close}
  delete_db $::testdb
  set me [file tail [info script]]
  if {$::nSampledOut > 0} {
    incr ::nSkip $::nSampledOut
    lappend ::skips [list "$::nSampledOut cases" \
      "of its generated matrices: one in N runs under valgrind"]
  }
  foreach s $::skips {
    lassign $s name why
    puts "$me: [expr {$name eq $me ? "skipped" : "$name skipped"}]: $why"
  }
  puts "$me: $::nPass passed, $::nFail failed, $::nSkip skipped"
  # Report to all.tcl, when it runs this file, on lines of their own.
  if {[info exists ::env(RELEXT_ALL)]} {
    foreach s $::skips { puts "@@SKIP $s" }
    puts "@@NAMES [dict keys $::names]"
    puts "@@RESULT $::nPass $::nFail $::nSkip"
  }
}

#-------------------------------------------------------------------------
# Refusals (a DELETE that Django refuses fails at that statement).
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

# Judge a failed statement's error: MSG with extended code CODE is a
# relext refusal named in MSGS, directly or, after SQLite's "FOREIGN KEY
# constraint failed", through rel_last_error(). Returns {ok last}.
proc refusal_judge {msg code msgs} {
  set last {}
  if {$msg eq "FOREIGN KEY constraint failed"} {
    if {[catch {db onecolumn {SELECT rel_last_error()}} last]} {
      set last [list ERROR $last]
    }
  }
  set ok [expr {($code & 0xff) == 19 && ([refusal_msg_ok $msgs $msg]
        || ($msg eq "FOREIGN KEY constraint failed" && [refusal_msg_ok $msgs $last]))}]
  return [list $ok $last]
}

# Run SQL expecting a relext refusal; returns {ok description}.
proc refusal_check {sql msgs} {
  set rc [catch {db eval $sql} msg]
  set code [db errorcode]
  if {!$rc} { return [list 0 [list accepted: $msg]] }
  lassign [refusal_judge $msg $code $msgs] ok last
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
    lassign [refusal_judge $msg $code $msgs] ok last
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
    lassign [refusal_judge $msg $code $msgs] ok last
    # A refused RELEASE of the outermost savepoint: SQLite rolls the work
    # back but leaves its (empty) transaction open, as for any commit
    # that fails there; a COMMIT closes it.
    if {![no_txn_open] && ![regexp -nocase {release\s+\w+\s*;?\s*$} $rest]} {
      set ok 0; lappend got {transaction left open}
    }
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
