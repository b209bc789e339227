# cluster.tcl -- relext in a 3-node dqlite cluster on 127.0.0.1 (`make
# cluster-test`; not part of `make test`, which does not need dqlite).
#
#   tclsh test/cluster/cluster.tcl --ext ./relext.so --launcher build/relext-dqlite
#
# Starts three build/relext-dqlite nodes, joins them as voters, declares
# relationships and runs cascades and a PROTECT refusal through go-dqlite's
# `dqlite` client, reads the same data from each node as leader, kills the
# leader with SIGKILL and checks that the new leader holds everything that
# was committed and still enforces every rule. Ends with "N passed, N failed, N skipped".
source [file join [file dirname [info script]] .. tester.tcl]

set launcher build/relext-dqlite
set extso ./relext.so
foreach {k v} $argv {
  switch -- $k {
    --ext { set extso $v }
    --launcher { set launcher $v }
  }
}
set launcher [file normalize $launcher]
set extso [file normalize $extso]
foreach need [list $launcher $extso] {
  if {![file exists $need]} { puts "cluster: $need not found"; exit 1 }
}
if {[auto_execok dqlite] eq ""} { puts "cluster: dqlite client not found (go-dqlite)"; exit 1 }

set dir [file join $::tmpdir cluster-[pid]]
file delete -force $dir
set base [expr {29100 + ([pid] % 300) * 3}]
set addr(1) 127.0.0.1:$base
set addr(2) 127.0.0.1:[expr {$base + 1}]
set addr(3) 127.0.0.1:[expr {$base + 2}]
set servers [join [list $addr(1) $addr(2) $addr(3)] ,]
array set pid {}

proc start_node {i} {
  file mkdir [file join $::dir n$i]
  set ::pid($i) [exec $::launcher node $::extso $i $::addr($i) [file join $::dir n$i] \
    >> [file join $::dir n$i.log] 2>@1 &]
}

proc stop_all {} {
  foreach i [array names ::pid] { catch {exec kill $::pid($i)} }
  after 300
  foreach i [array names ::pid] { catch {exec kill -9 $::pid($i)} }
}

# Run lines of SQL through the dqlite client (one statement a line, each in
# its own transaction); return its output lines without the prompts.
proc dq {sql {srv ""}} {
  if {$srv eq ""} { set srv $::servers }
  catch {exec timeout 30 dqlite -s $srv relext << [string trim $sql]\n 2>@1} out
  set lines {}
  foreach l [split $out \n] {
    while {[string match {dqlite> *} $l] || $l eq "dqlite>"} { set l [string range $l 8 end] }
    if {$l ne ""} { lappend lines $l }
  }
  set lines
}

proc leader {} { lindex [dq .leader] 0 }

proc wait_leader {} {
  for {set t 0} {$t < 100} {incr t} {
    set l [leader]
    if {[string match 127.0.0.1:* $l]} { return $l }
    after 100
  }
  return ""
}

set data_sql {
SELECT 'category', id, title FROM category ORDER BY id
SELECT 'article', id, title, category_id, author_id FROM article ORDER BY id
SELECT 'tags', article_id, tag_id FROM article_tags ORDER BY article_id, tag_id
SELECT 'user', id, username FROM auth_user ORDER BY id
}

if {[catch {
  # --- three voters ---------------------------------------------------------
  foreach i {1 2 3} { start_node $i }
  do_test cluster-1.0 { wait_leader } $addr(1)
  do_test cluster-1.1 {
    exec $launcher join $addr(1) 2 $addr(2)
    exec $launcher join $addr(1) 3 $addr(3)
    dq .cluster
  } [list "1|$addr(1)|voter" "2|$addr(2)|voter" "3|$addr(3)|voter"]

  # --- relationships through the client ------------------------------------
  do_test cluster-2.0 {
    dq {
CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT)
CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT)
CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT)
CREATE TABLE auth_user(id INTEGER PRIMARY KEY, username TEXT)
SELECT rel_define('article.category', 'ForeignKey', 'category', 'on_delete=models.CASCADE, related_name="articles"')
SELECT rel_define('article.author', 'ForeignKey', 'auth.User', 'on_delete=models.PROTECT, null=True, related_name="articles"')
SELECT rel_define('article.tags', 'ManyToManyField', 'tag', 'related_name="articles"')
    }
  } {{ForeignKey article.category -> category (column category_id -> category.id, on_delete=CASCADE, related_name=articles)} {ForeignKey article.author -> auth_user (column author_id -> auth_user.id, on_delete=PROTECT, null=True, related_name=articles)} {ManyToManyField article.tags -> tag (junction article_tags(article_id, tag_id), related_name=articles)}}
  do_test cluster-2.1 {
    dq {
INSERT INTO auth_user VALUES (1, 'alice'), (2, 'bob')
INSERT INTO category VALUES (1, 'tech'), (2, 'life'), (3, 'misc')
INSERT INTO article VALUES (1, 'SQLite', 1, 1), (2, 'Django', 1, NULL), (3, 'Garden', 2, 2), (4, 'Notes', 3, NULL)
INSERT INTO tag VALUES (1, 'db'), (2, 'py')
INSERT INTO article_tags(article_id, tag_id) VALUES (1, 1), (2, 2), (3, 2), (4, 1)
INSERT INTO article_tags(article_id, tag_id) VALUES (1, 1)
DELETE FROM category WHERE id = 1
DELETE FROM auth_user WHERE id = 2
INSERT INTO article VALUES (9, 'Orphan', 42, NULL)
SELECT id FROM article ORDER BY id
SELECT article_id, tag_id FROM article_tags ORDER BY article_id
    }
  } {{Error:  exec: relext: PROTECT: cannot delete auth_user 2: referenced by 1 row of article.author} {Error:  commit: relext: FOREIGN KEY: article 9: category_id=42 points at no row of category (article.category)} 3 4 3|2 4|1}

  # --- every node holds the same data (each made leader in turn) -----------
  set want [dq $data_sql]
  foreach i {2 3 1} {
    do_test cluster-3.$i {
      exec $launcher transfer [leader] $i
      list [wait_leader] [expr {[dq $data_sql] eq $want}]
    } [list $addr($i) 1]
  }

  # --- the leader dies ----------------------------------------------------
  set old [leader]
  set dead [lsearch -exact [list - $addr(1) $addr(2) $addr(3)] $old]
  exec kill -9 $pid($dead)
  unset pid($dead)
  set t0 [clock milliseconds]
  do_test cluster-4.0 {
    set new [wait_leader]
    list [string match 127.0.0.1:* $new] [expr {$new ne $old}]
  } {1 1}
  puts "cluster: leader $old killed, new leader [leader] after [expr {[clock milliseconds] - $t0}] ms"
  do_test cluster-4.1 { expr {[dq $data_sql] eq $want} } 1
  do_test cluster-4.2 {
    dq {
DELETE FROM auth_user WHERE id = 2
INSERT INTO article VALUES (10, 'Orphan', 42, NULL)
INSERT INTO article_tags(article_id, tag_id) VALUES (3, 2)
DELETE FROM category WHERE id = 2
SELECT id FROM article ORDER BY id
SELECT article_id, tag_id FROM article_tags ORDER BY article_id
SELECT count(*) FROM auth_user
SELECT count(*) FROM rel_check
    }
  } {{Error:  exec: relext: PROTECT: cannot delete auth_user 2: referenced by 1 row of article.author} {Error:  commit: relext: FOREIGN KEY: article 10: category_id=42 points at no row of category (article.category)} 4 4|1 2 0}
  # PROTECT no longer blocks once the cascade took bob's article.
  do_test cluster-4.3 {
    dq {
DELETE FROM auth_user WHERE id = 2
SELECT id, username FROM auth_user
    }
  } {1|alice}
  # The killed node comes back with its data and catches up.
  start_node $dead
  do_test cluster-4.4 {
    set want [dq $data_sql]
    after 500
    exec $launcher transfer [leader] $dead
    list [wait_leader] [expr {[dq $data_sql] eq $want}]
  } [list $addr($dead) 1]
} err]} {
  puts "cluster: error: $err"
  incr ::nFail
}
stop_all
file delete -force $dir
finish_test
exit [expr {$::nFail ? 1 : 0}]
