# all.tcl -- run every test/*.test in its own tclsh process and total the
# results. Usage: tclsh test/all.tcl [--ext PATH] [--valgrind] [FILTER...]
# Ends with "N passed, N failed"; exits non-zero on any failure.
set ext ./relext
set valgrind 0
set filters {}
for {set i 0} {$i < [llength $argv]} {incr i} {
  set a [lindex $argv $i]
  switch -- $a {
    --ext { incr i; set ext [lindex $argv $i] }
    --valgrind { set valgrind 1 }
    default { lappend filters $a }
  }
}
set dir [file dirname [file normalize [info script]]]
set ::env(RELEXT_EXT) [file normalize $ext]
set tmp [file join /tmp relext-tests-[pid]]
file mkdir $tmp
set ::env(RELEXT_TMP) $tmp
set pass 0
set fail 0
foreach f [lsort [glob -directory $dir *.test]] {
  if {[llength $filters]} {
    set keep 0
    foreach pat $filters { if {[string match *$pat* [file tail $f]]} { set keep 1 } }
    if {!$keep} continue
  }
  set cmd [list [info nameofexecutable] $f]
  if {$valgrind} {
    set cmd [list valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --error-exitcode=99 \
      --suppressions=[file join $dir valgrind.supp] {*}$cmd]
  }
  set rc [catch {exec {*}$cmd 2>@1} out opts]
  set found 0
  foreach line [split $out \n] {
    if {[regexp {^@@RESULT (\d+) (\d+)$} $line -> p q]} {
      incr pass $p; incr fail $q; set found 1
    } else {
      puts $line
    }
  }
  if {!$found || ($rc && [lindex [dict get $opts -errorcode] 0] eq "CHILDSTATUS")} {
    if {!$found} { puts "! [file tail $f]: did not finish" }
    if {$rc} { puts "! [file tail $f]: exit status [lindex [dict get $opts -errorcode] 2]" }
    incr fail
  }
}
file delete -force $tmp
puts "$pass passed, $fail failed"
exit [expr {$fail ? 1 : 0}]
