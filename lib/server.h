// server.h — `facepipe serve`: one long-lived process that keeps the models
// loaded and answers over HTTP (REST API, CompreFace subset, web pages).
//
// It is one more skin over the library, as cmd/ is for the shell:
//   recognize        -> Predictor::label_bytes (predict.h), image_labels_json
//   enrol, removals  -> enroll / people.h, under the same lock as the CLI and
//                       scripts/retrain.sh, and one write at a time in-process
//   live frames      -> LiveSession (live_session.h), one per browser session
//   hot reload       -> ModelWatcher (model_watch.h), as `live` uses it
//   unknown faces    -> face_groups.h (cluster, name, forget, merge-groups);
//                       naming enrols as enrol does (the same one-at-a-time change)
// Models load once; each analysis thread owns its analyzer (a Predictor); each
// live session owns its tracker. The transport (sockets, TLS, limits, 503s,
// graceful stop) is http_server.h; the API key is server_auth.h; CompreFace's
// shapes are compreface.h; /metrics is metrics.h; the pages are web_assets.h.
//
// Errors are answered as {"error": "<one line>"} with a status chosen by the
// exception's TYPE (error.h), never by its text:
//   UsageError -> 400, NotFoundError -> 404, LimitError -> 413,
//   ModelError -> 503, any other Error -> 422, anything else -> 500
//   ("internal error"; the cause is logged, never sent).
// Each failure is logged as one line; requests themselves at debug level.
// The endpoints are documented in docs/serve.md and docs/openapi.json.
#pragma once
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "enroll.h"
#include "http_server.h"
#include "models.h"
#include "predict.h"
#include "unknown_collect.h"

namespace facepipe {

struct ServeOptions {
    HttpOptions http;            // listen address, connections, queue, timeouts, body limit, TLS
    EnrollOptions enroll;        // dataset, encodings, model, labels, lock, augment: enrol and removals
    PredictOptions predict;      // analyzer and image limits of recognize
    std::string api_key;         // "" = none (then only a loopback address may be used)
    int threads = 0;             // images analysed at once (0 = all cores)
    int max_sessions = 8;        // live sessions (browser tabs) at once
    std::chrono::seconds session_idle{60};       // a live session unused this long ends
    std::chrono::milliseconds model_poll{250};   // how often model.bin/labels.bin are checked
    std::string sync_command;    // run after an enrol or removal ("" = none): the bucket sync
    CollectOptions collect;      // --collect-unknown: keep the faces recognize and the live page label unknown
    // The unknown faces the "Unknown faces" page and /api/v1/unknown/... show
    // (face_groups.h); "" = collect.dir when collecting, else default_unknown_dir(enroll.model).
    std::filesystem::path unknown_dir;
};

// The port `serve` listens on: "HOST:PORT", "[IPv6]:PORT" or ":PORT" (every
// address). Throws UsageError("--listen", ...) for anything else.
void parse_listen(const std::string& text, HttpOptions& http);

// The bucket-sync command to run after a change, when FACEPIPE_BUCKET is set:
// $FACEPIPE_SYNC, else sync.sh beside the binary, in ../scripts/ of it (the
// build tree) or in ../share/facepipe/scripts/ (installed); "" when there is
// none (a warning says so) or no bucket is set.
std::string default_sync_command();

// serve(options, models, stop, on_ready)
//   ensures: loads the face models once, the model pair when it exists (a
//            missing one is waited for: recognition answers 503 until a model
//            is trained or enrolled), listens (on_ready(server) is called
//            then), and serves until `stop` turns true; then stops accepting,
//            answers the requests in flight and returns.
//   throws:  UsageError for options that cannot run: a non-loopback address
//            without an API key, an address that cannot be bound, bad TLS
//            files; ModelError for missing or corrupt face models, or a model
//            pair that exists but cannot be used.
void serve(const ServeOptions& options, const ModelFiles& models, const std::atomic<bool>& stop,
           const std::function<void(const HttpServer&)>& on_ready = {});

}  // namespace facepipe
