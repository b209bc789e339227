# scenario.tcl -- relext from Tcl (Debian's libsqlite3-tcl).
#
#   tclsh test/hosts/scenario.tcl [EXT [SCENARIO]]
#
# EXT is the extension path (default ./relext); SCENARIO is
# test/hosts/scenario.sql, whose header gives the rules.
package require sqlite3

set ext [expr {$argc > 0 ? [lindex $argv 0] : "./relext"}]
set script [expr {$argc > 1 ? [lindex $argv 1]
  : [file join [file dirname [info script]] scenario.sql]}]

sqlite3 db :memory:
db enable_load_extension 1
db eval {SELECT load_extension($ext)}
db enable_load_extension 0
db nullvalue NULL

set f [open $script]
fconfigure $f -encoding utf-8
foreach line [split [read $f] \n] {
  set line [string trim $line]
  if {[string match {.print *} $line]} {
    puts [string trim [string trim [string range $line 7 end]] \"]
    continue
  }
  if {$line eq "" || [string match .* $line] || [string match --* $line]} continue
  if {[catch {
    db eval $line row {
      set vals {}
      foreach c $row(*) { lappend vals $row($c) }
      puts [join $vals |]
    }
  } msg]} {
    puts "error [expr {[db errorcode] & 0xff}]: $msg"
  }
}
close $f
db close
