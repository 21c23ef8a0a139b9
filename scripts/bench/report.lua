-- wrk script: every request is a new incident report (a fresh client id, a random point in
-- Rennes, a random incident category), with the photo given as the script's first argument,
-- or without photo. Prints the answers by HTTP status and p50/p99 at the end.
--   wrk -t2 -c8 -d20s -s scripts/bench/report.lua http://127.0.0.1:8099 -- photo.jpg

local boundary = "guichet-bench-boundary"
local categories = { "voirie", "tags-graffitis", "depot-sauvage", "eclairage-public",
  "mobilier-urbain", "espaces-verts", "encombrants-abandonnes", "proprete" }
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  counter = 0
  nonce = os.time()
  math.randomseed(nonce + tid * 7919)
  photo = nil
  if args[1] then
    local f = assert(io.open(args[1], "rb"))
    photo = f:read("*a")
    f:close()
  end
end

local function part_header(name, extra)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"" .. extra .. "\r\n"
end

function request()
  counter = counter + 1
  -- Unique per run, thread and request.
  local id = string.format("%08x-%04x-4%03x-8%03x-%012x", tid, nonce % 65536,
    math.floor(nonce / 65536) % 4096, math.random(0, 4095), counter)
  local json = string.format(
    '{"client_id":"%s","category":"%s","lat":%.6f,"lon":%.6f,"accuracy_m":8,"description":"Signalement de charge"}',
    id, categories[math.random(#categories)], 48.09 + math.random() * 0.04, -1.71 + math.random() * 0.07)
  local body = part_header("report", "") .. "Content-Type: application/json\r\n\r\n" .. json .. "\r\n"
  if photo then
    body = body .. part_header("photo", "; filename=\"photo.jpg\"") .. "Content-Type: image/jpeg\r\n\r\n" .. photo .. "\r\n"
  end
  body = body .. "--" .. boundary .. "--\r\n"
  return wrk.format("POST", "/api/v1/reports",
    { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  local line = "statuses:"
  for status, n in pairs(totals) do line = line .. string.format(" %d×%d", status, n) end
  io.write(line .. "\n")
  io.write(string.format("throughput %.1f req/s, p50 %.1f ms, p99 %.1f ms, socket errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
