/**
 * The batch system of the elastic e2e tests: files in the master's home. queue_waiting holds the
 * number of waiting jobs, busy.<ip> the jobs running on a worker, worker_list (written by the
 * front end's configure step) the registered workers. PROBE prints it as the generic probe's JSON.
 */
export const PROBE = `w=$(cat "$HOME/queue_waiting" 2>/dev/null || echo 0); printf '{"waiting": %s, "busy": {' "$w"; sep=''; `
  + `if [ -f "$HOME/worker_list" ]; then while read -r ip; do [ -n "$ip" ] || continue; b=$(cat "$HOME/busy.$ip" 2>/dev/null || echo 0); `
  + `printf '%s"%s": %s' "$sep" "$ip" "$b"; sep=', '; done < "$HOME/worker_list"; fi; printf '}}\\n'`;
