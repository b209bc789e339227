# reliability.tcl -- shared by oom.test, faults.test, concurrency.test and
# fuzzreplay.test: build a C driver with `make -s` (make rebuilds it when a
# source is newer) and run it, returning {exit-status output}.
proc rel_build {target} {
  lassign [run_make $target] rc out
  if {$rc} { error "make $target failed: $out" }
  return [file join $::rootdir $target]
}
proc rel_run {target args} {
  set bin [rel_build $target]
  set rc [catch {exec $bin {*}$args 2>@1} out opts]
  if {$rc} {
    set ec [dict get $opts -errorcode]
    if {[lindex $ec 0] eq "CHILDSTATUS"} { set rc [lindex $ec 2] } else { set rc -1 }
  }
  return [list $rc $out]
}
# Print the driver's summary lines (those starting with PREFIX) and return
# its exit status: 0 when everything held. A driver that ran nothing must not
# pass: COUNTED is a regexp whose first group counts the work done (OOM
# points, inputs, kills, statements); it must match, and never count 0.
proc rel_report {prefix counted res} {
  lassign $res rc out
  foreach line [split $out \n] {
    if {[string match "$prefix*" $line] || $rc != 0} { puts "  $line" }
  }
  if {$rc != 0} { return $rc }
  set counts [regexp -all -inline -line -- $counted $out]
  if {![llength $counts]} { return "no line matches {$counted}" }
  foreach {line n} $counts {
    if {$n == 0} { return "ran nothing: $line" }
  }
  return 0
}
