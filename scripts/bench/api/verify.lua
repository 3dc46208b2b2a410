-- wrk script of scripts/bench_api.py: GET /v1/verify?hash=…&with_proof=true, rotating among
-- the anchored content hashes listed one per line in the file given after `--`; the API key
-- comes with `-H "X-API-Key: …"`. Every thread starts at its own offset. At the end one line
-- `XT-RESULT {json}` gives requests, errors (non-200 counted here exactly) and latency.
--
--   wrk -t1 -c8 -d20s --latency -s verify.lua -H "X-API-Key: KEY" http://127.0.0.1:PORT -- hashes.txt

local threads = {}
local count = 0

function setup(thread)
   thread:set("offset", count)
   count = count + 1
   table.insert(threads, thread)
end

local hashes = {}
local position = 0
non200 = 0
statuses = ""

function init(args)
   local path = args[1]
   if path == nil then
      error("give the file of hashes after `--`")
   end
   for line in io.lines(path) do
      if #line > 0 then
         hashes[#hashes + 1] = line
      end
   end
   if #hashes == 0 then
      error("no hashes in " .. path)
   end
   -- Threads start far apart in the list, so they do not ask for the same hashes in step.
   position = math.floor(offset * #hashes / 16) % #hashes
end

function request()
   position = position % #hashes + 1
   return wrk.format("GET", "/v1/verify?hash=" .. hashes[position] .. "&with_proof=true")
end

function response(status, headers, body)
   if status ~= 200 then
      non200 = non200 + 1
      if #statuses < 200 then
         statuses = statuses .. status .. " "
      end
   end
end

function done(summary, latency, requests)
   local wrong, seen = 0, ""
   for _, thread in ipairs(threads) do
      wrong = wrong + thread:get("non200")
      seen = seen .. thread:get("statuses")
   end
   local e = summary.errors
   io.write(string.format(
      'XT-RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"non200":%d},' ..
      '"non200_statuses":"%s",' ..
      '"latency_us":{"mean":%.1f,"stdev":%.1f,"min":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout, wrong, seen,
      latency.mean, latency.stdev, latency.min,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
end
