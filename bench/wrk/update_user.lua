-- wrk script: the same PUT as bench/c/bench_ycm.c and bench/c/bench_curl.c (same path,
-- headers and body), used to measure what the mock server itself can serve (a ceiling).
-- wrk counts non-2xx answers itself; done() prints one key=value line for summarize.py.
wrk.method = "PUT"
wrk.path = "/dm/open_api/v1/users/13329"
wrk.body = '{"company":"Bench Co","remark":"benchmark run"}'
wrk.headers["Authorization"] = "Bearer ycm-mock-token"
wrk.headers["User-Agent"] = "ycm/0.1.0"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

function done(summary, latency, requests)
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.status + e.timeout
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "impl=wrk requests=%d errors=%d seconds=%.4f rps=%.1f p50_us=%.1f p99_us=%.1f\n",
      summary.requests, errors, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(99)))
end
