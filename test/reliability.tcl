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
# Print the driver's summary lines (those starting with "<prefix>: ") and
# return its exit status (0 when everything held).
proc rel_report {prefix res} {
  foreach line [split [lindex $res 1] \n] {
    if {[string match "$prefix*" $line] || [lindex $res 0] != 0} { puts "  $line" }
  }
  return [lindex $res 0]
}
