# all.tcl -- run every test/*.test in its own tclsh process and total the
# results. Usage: tclsh test/all.tcl [--ext PATH] [--valgrind] [FILTER...]
# Lists every skipped test with its reason, then ends with the line
# "N passed, N failed, N skipped"; exits non-zero on any failure.
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
set ::env(RELEXT_ALL) 1    ;# test files report to us in @@ lines
set pass 0
set fail 0
set skip 0
set skips {}
set failures {}   ;# every failure line, repeated before the totals
proc failline {line} {
  puts $line
  lappend ::failures $line
}
# The files to run: all, or those whose name contains a FILTER. A FILTER that
# matches no file is a failure, not an empty run that passes.
set files {}
foreach f [lsort [glob -directory $dir *.test]] {
  if {![llength $filters]} { lappend files $f; continue }
  foreach pat $filters {
    if {[string match *$pat* [file tail $f]]} { lappend files $f; break }
  }
}
foreach pat $filters {
  if {![llength [lsearch -all -glob [lmap f $files {file tail $f}] *$pat*]]} {
    failline "! no test file matches \"$pat\""
    incr fail
  }
}
foreach f $files {
  set cmd [list [info nameofexecutable] $f]
  if {$valgrind} {
    set cmd [list valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --error-exitcode=99 \
      --suppressions=[file join $dir valgrind.supp] {*}$cmd]
  }
  set rc [catch {exec {*}$cmd 2>@1} out opts]
  set found 0
  foreach line [split $out \n] {
    if {[regexp {^@@RESULT (\d+) (\d+) (\d+)$} $line -> p q s]} {
      incr pass $p; incr fail $q; incr skip $s; set found 1
    } elseif {[regexp {^@@NAMES (.*)$} $line -> l]} {
      foreach n $l { lappend where($n) [file tail $f] }
    } elseif {[regexp {^@@SKIP (.*)$} $line -> s]} {
      lappend skips [list [file tail $f] {*}$s]
    } elseif {[string match "! *" $line]} {
      failline "[file tail $f]: $line"
    } else {
      puts $line
    }
  }
  if {!$found || ($rc && [lindex [dict get $opts -errorcode] 0] eq "CHILDSTATUS")} {
    if {!$found} { failline "! [file tail $f]: did not finish" }
    if {$rc} { failline "! [file tail $f]: exit status [lindex [dict get $opts -errorcode] 2]" }
    incr fail
  }
}
file delete -force $tmp
# Test names are unique across the suite (within a file, tester.tcl checks).
foreach n [lsort [array names where]] {
  if {[llength $where($n)] > 1} {
    failline "! test name $n is used by [join $where($n) { and }]"
    incr fail
  }
}
foreach s $skips {
  lassign $s file name why
  if {$name eq $file} {
    puts "skipped: $file (the whole file): $why"
  } else {
    puts "skipped: $file: $name: $why"
  }
}
# A CI log often shows only its tail: name every failure again, just above the
# totals (the first 40; the full lines are above).
foreach line [lrange $failures 0 39] { puts "failed: [string range $line 0 299]" }
if {[llength $failures] > 40} { puts "failed: ... and [expr {[llength $failures] - 40}] more" }
puts "$pass passed, $fail failed, $skip skipped"
exit [expr {$fail ? 1 : 0}]
