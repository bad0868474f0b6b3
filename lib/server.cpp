#include "server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "bucket_sync.h"
#include "compreface.h"
#include "error.h"
#include "face_groups.h"
#include "fsutil.h"
#include "text.h"
#include "live_session.h"
#include "metrics.h"
#include "model_watch.h"
#include "people.h"
#include "server_auth.h"
#include "server_request.h"
#include "threads.h"
#include "version.h"
#include "web_assets.h"

namespace facepipe {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using httplib::Request;
using httplib::Response;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A request refused for what it is (its media type, a malformed upload): the
// status is part of the type.
class HttpError : public Error {
public:
    HttpError(int status, const std::string& subject, const std::string& cause) : Error(subject, cause), status(status) {}
    int status;
};

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void reply(Response& res, int status, const Json& j) {
    res.status = status;
    res.set_content(dump(j), "application/json");
}

// The endpoint (metrics label) of the request this thread is answering.
thread_local const char* tl_endpoint = nullptr;

// The model pair in use, through a ModelWatcher once model.bin exists (a
// server may start before anyone is enrolled). One thread polls, so that
// ModelWatcher::poll is never called twice at once; wait_for() asks it to
// poll now, for an enrolment that must answer with its new model.
class ModelBox {
public:
    ModelBox(std::string model, std::string labels, std::string model_id, DetectorKind detector,
             milliseconds interval)
        : model_(std::move(model)),
          labels_(std::move(labels)),
          model_id_(std::move(model_id)),
          detector_(detector),
          interval_(interval) {
        if (fs::exists(model_) || fs::exists(labels_)) {
            owned_ = std::make_unique<ModelWatcher>(model_, labels_, model_id_, milliseconds(0));  // throws
            watcher_ = owned_.get();
            warn_detector(*owned_->current());
        } else {
            spdlog::warn("{}: no model yet; recognition answers 503 until someone is enrolled or `facepipe train` runs",
                         printable(model_));
        }
        thread_ = std::thread([this] { run(); });
    }
    ~ModelBox() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stopping_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    // Null until a model exists.
    const ModelWatcher* watcher() const { return watcher_.load(); }
    std::shared_ptr<const Classifier> current() const {
        const ModelWatcher* w = watcher();
        return w ? w->current() : nullptr;
    }

    // True once the model in use has this training id (false after `timeout`).
    bool wait_for(const std::string& training_id, milliseconds timeout) {
        const auto until = Clock::now() + timeout;
        for (;;) {
            const auto c = current();
            if (c && c->training_id() == training_id) return true;
            if (Clock::now() >= until) return false;
            {
                std::lock_guard<std::mutex> lock(mu_);
                urgent_ = true;
            }
            cv_.notify_all();
            std::this_thread::sleep_for(milliseconds(20));
        }
    }

private:
    // A model trained (by the CLI, say) on another detector's faces.
    void warn_detector(const Classifier& c) const {
        const std::string w = detector_mismatch(c.model().detector, detector_);
        if (!w.empty()) spdlog::warn("{}: {}", printable(model_), w);
    }

    void run() {
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
            cv_.wait_for(lock, interval_, [&] { return stopping_ || urgent_; });
            if (stopping_) return;
            const bool urgent = urgent_;
            urgent_ = false;
            lock.unlock();
            check(urgent);
            lock.lock();
        }
    }

    void check(bool urgent) {
        if (!watcher()) {
            if (!fs::exists(model_) || !fs::exists(labels_)) return;
            try {
                owned_ = std::make_unique<ModelWatcher>(model_, labels_, model_id_, milliseconds(0));
                watcher_ = owned_.get();
                spdlog::info("{}: model loaded ({} people)", printable(model_), owned_->current()->names().size());
                warn_detector(*owned_->current());
            } catch (const std::exception& e) {
                if (e.what() != last_error_) spdlog::warn("{}; waiting for a usable model", e.what());
                last_error_ = e.what();
            }
            return;
        }
        owned_->poll();
        // A poll loads a change only once it has held still for one more poll:
        // when asked to hurry (the files were just written), poll again now.
        if (urgent) owned_->poll();
    }

    std::string model_, labels_, model_id_;
    DetectorKind detector_;
    milliseconds interval_;
    std::unique_ptr<ModelWatcher> owned_;  // set once, by the constructor or the polling thread
    std::atomic<const ModelWatcher*> watcher_{nullptr};
    std::string last_error_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false, urgent_ = false;
    std::thread thread_;
};

// The analysers: one Predictor per image analysed at once, each rebuilt when
// the model changes. acquire() waits for a free one.
class AnalysisPool {
public:
    struct Slot {
        std::unique_ptr<Predictor> predictor;
        std::shared_ptr<const Classifier> classifier;  // the one predictor names with
        std::unique_ptr<FaceAnalyzer> live;            // live sessions' detector and describer
    };

    class Lease {
    public:
        Lease(AnalysisPool& pool, std::unique_ptr<Slot> slot) : pool_(&pool), slot_(std::move(slot)) {}
        Lease(Lease&&) = default;
        ~Lease() {
            if (slot_) pool_->give_back(std::move(slot_));
        }
        Slot* operator->() { return slot_.get(); }

    private:
        AnalysisPool* pool_;
        std::unique_ptr<Slot> slot_;
    };

    explicit AnalysisPool(int n) {
        for (int i = 0; i < n; ++i) free_.push_back(std::make_unique<Slot>());
    }

    Lease acquire() {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !free_.empty(); });
        auto slot = std::move(free_.back());
        free_.pop_back();
        return Lease(*this, std::move(slot));
    }

private:
    void give_back(std::unique_ptr<Slot> slot) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            free_.push_back(std::move(slot));
        }
        cv_.notify_one();
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Slot>> free_;
};

// The browser tabs' live sessions: one LiveSession (tracker state) each, at
// most `max`; one unused for `idle` ends. A session's frames are served one at
// a time (its mutex).
class LiveSessions {
public:
    struct Session {
        Session(std::shared_ptr<const LoadedModels> models, UnknownCollector* collector, int number)
            : live(std::move(models), TrackerOptions{}, LiveOptions::live_analyzer_defaults()) {
            if (collector) collect = std::make_unique<StreamCollector>(*collector, "serve live " + std::to_string(number));
        }
        ~Session() {  // the tab closed or went idle: its tracks end, and the unknown ones are kept
            if (!collect || live.frames() == 0) return;
            try {
                collect->frame(cv::Mat(), 0, {}, live.finish(), live.classifier());
                collect->finish(live.classifier());
            } catch (const std::exception& e) {
                spdlog::error("live session: unknown faces not kept: {}", e.what());
            }
        }
        std::mutex mu;
        LiveSession live;
        Clock::time_point last_used;
        Clock::time_point started = Clock::now();
        std::unique_ptr<StreamCollector> collect;  // --collect-unknown
    };

    LiveSessions(std::shared_ptr<const LoadedModels> models, int max, std::chrono::seconds idle,
                 UnknownCollector* collector)
        : models_(std::move(models)), max_(max), idle_(idle), collector_(collector) {}

    // The session `id`, made when new. Throws HttpError 503 when `max` are in use.
    std::shared_ptr<Session> get(const std::string& id) {
        std::lock_guard<std::mutex> lock(mu_);
        const auto now = Clock::now();
        for (auto it = sessions_.begin(); it != sessions_.end();) {  // idle ones end (unless a frame is in flight)
            if (it->first != id && now - it->second->last_used > idle_ && it->second.use_count() == 1)
                it = sessions_.erase(it);
            else
                ++it;
        }
        auto& s = sessions_[id];
        if (!s) {
            if (static_cast<int>(sessions_.size()) > max_) {
                sessions_.erase(id);
                throw HttpError(503, "live sessions",
                                "all " + std::to_string(max_) + " are in use (--sessions); close a tab or retry");
            }
            s = std::make_shared<Session>(models_, collector_, ++made_);
        }
        s->last_used = now;
        return s;
    }

    int size() const {
        std::lock_guard<std::mutex> lock(mu_);
        return static_cast<int>(sessions_.size());
    }

private:
    std::shared_ptr<const LoadedModels> models_;
    int max_;
    std::chrono::seconds idle_;
    UnknownCollector* collector_;  // null unless --collect-unknown
    int made_ = 0;
    mutable std::mutex mu_;
    std::map<std::string, std::shared_ptr<Session>> sessions_;
};

struct Upload {
    std::string name;
    std::string bytes;
};

// What the bucket sync script needs to act on this server's files.
std::map<std::string, std::string> sync_environment(const ServeOptions& o) {
    std::map<std::string, std::string> env = {{"FACEPIPE_DATASET", o.enroll.dataset.string()},
                                              {"FACEPIPE_ENCODINGS", o.enroll.encodings.string()},
                                              {"FACEPIPE_MODEL", o.enroll.model.string()},
                                              {"FACEPIPE_LABELS", o.enroll.labels.string()}};
    if (!o.enroll.lock.empty()) env["FACEPIPE_LOCK"] = o.enroll.lock.string();
    char exe[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) env["FACEPIPE_BIN"] = std::string(exe, static_cast<size_t>(n));
    return env;
}

Json verdict_json(const PhotoVerdict& v) {
    return {{"file", v.photo}, {"verdict", to_string(v.kind)}, {"detail", v.detail},
            {"id", v.id.empty() ? Json(nullptr) : Json(v.id)}};
}

// The photos of an enrol request: every multipart `file` field.
std::vector<Photo> photos_of(const Request& req) {
    if (media_type(req.get_header_value("Content-Type")) != "multipart/form-data")
        throw HttpError(415, "Content-Type", "send the photos as multipart/form-data, one 'file' field each");
    std::vector<Photo> photos;
    const auto range = req.files.equal_range("file");
    for (auto it = range.first; it != range.second; ++it)
        photos.push_back({it->second.filename.empty() ? "photo-" + std::to_string(photos.size() + 1) : it->second.filename,
                          it->second.content});
    if (photos.empty()) throw HttpError(400, "multipart body", "has no 'file' field");
    return photos;
}

// A stored photo's Content-Type, from its extension (image.h's list).
const char* photo_content_type(const std::string& id) {
    std::string ext = fs::path(id).extension().string();
    for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
    if (ext == ".png") return "image/png";
    if (ext == ".webp") return "image/webp";
    if (ext == ".bmp") return "image/bmp";
    if (ext == ".tif" || ext == ".tiff") return "image/tiff";
    if (ext == ".pgm") return "image/x-portable-graymap";
    if (ext == ".ppm") return "image/x-portable-pixmap";
    return "application/octet-stream";
}

// A live session id: 1 to 64 of [A-Za-z0-9_-] (the page makes a random one).
std::string session_id(const Request& req) {
    const std::string id = req.get_param_value("session");
    bool ok = !id.empty() && id.size() <= 64;
    for (unsigned char ch : id) ok = ok && (std::isalnum(ch) || ch == '-' || ch == '_');
    if (!ok) throw UsageError("session", "needs 1 to 64 letters, digits, '-' or '_' (?session=ID)");
    return id;
}

Json change_json(const RemoveReport& r) {
    return {{"person", r.person},
            {"removed", r.removed.size()},
            {"retrained", r.retrained},
            {"training_id", r.retrained ? Json(r.training_id) : Json(nullptr)},
            {"people", r.retrained ? r.people_after : r.people_before}};
}

const char* const kLoginFallback =
    "<!doctype html><meta charset=utf-8><title>facepipe: log in</title>"
    "<form method=post action=/login><label>API key <input name=key type=password autofocus></label>"
    "<button>Log in</button></form>";

class Service {
public:
    Service(const ServeOptions& o, std::shared_ptr<const LoadedModels> models, HttpServer& http)
        : o_(o), models_(std::move(models)), http_(http), auth_(o.api_key),
          model_(o.enroll.model.string(), o.enroll.labels.string(), models_->files().model_id(),
                 o.predict.analyzer.detector.kind, o.model_poll),
          pool_(o.threads), sessions_(models_, o.max_sessions, o.session_idle, o.predict.collect.get()),
          sync_(o.sync_command, sync_environment(o)) {
        http_.set_gate([this](const Request& req, Response& res) { return gate(req, res); });
        http_.set_logger([this](const Request& req, const Response& res, double ms) { log(req, res, ms); });
        add_routes();
    }

private:
    using Handler = std::function<void(const Request&, Response&)>;

    void add_routes();
    void route(const char* method, const char* pattern, const char* endpoint, Handler h);
    void fail(const Request& req, Response& res, int status, const std::string& message, bool compreface) const;
    int gate(const Request& req, Response& res) const;
    void log(const Request& req, const Response& res, double ms);

    Upload upload_of(const Request& req) const;
    std::pair<ImageLabels, std::shared_ptr<const Classifier>> label(const Upload& up);

    // Runs one change of the dataset and model (enrol, removal): one at a time
    // in this process (and under the file lock, which the library takes),
    // with its progress at /api/v1/jobs/current; then waits until the new
    // model answers, and asks for a bucket push.
    template <class Work>
    auto change(const char* action, const std::string& person, bool removal, Work work);
    void wait_for_model(const RetrainReport& r);

    void recognize(const Request& req, Response& res);
    void compreface_recognize(const Request& req, Response& res);
    void enrol(const Request& req, Response& res);
    void people(const Request& req, Response& res) const;
    void photo(const Request& req, Response& res) const;
    void remove_person(const Request& req, Response& res);
    void remove_photo(const Request& req, Response& res);
    void live_frame(const Request& req, Response& res);
    void compreface_add(const Request& req, Response& res);
    void compreface_faces(const Request& req, Response& res) const;
    void compreface_delete_faces(const Request& req, Response& res);
    void compreface_delete_face(const Request& req, Response& res);
    void compreface_subjects(const Request& req, Response& res) const;
    void compreface_add_subject(const Request& req, Response& res);
    void compreface_delete_subject(const Request& req, Response& res);
    RemoveReport remove(const std::string& person, const std::string& photo_id = "");
    void health(const Request& req, Response& res) const;
    void metrics(const Request& req, Response& res) const;
    void job(const Request& req, Response& res);
    void page(const Request& req, Response& res) const;
    // The "Unknown faces" page's API (face_groups.h).
    fs::path unknown_dir() const;
    std::uint64_t group_id(const std::string& text) const;
    template <class F>
    auto on_group(F f) const;
    void unknown_groups(const Request& req, Response& res) const;
    void unknown_face(const Request& req, Response& res) const;
    void unknown_name(const Request& req, Response& res);
    void unknown_forget(const Request& req, Response& res);
    void unknown_merge(const Request& req, Response& res);
    void login(const Request& req, Response& res) const;
    void logout(const Request& req, Response& res) const;

    const ServeOptions& o_;
    std::shared_ptr<const LoadedModels> models_;
    HttpServer& http_;
    ApiKeyAuth auth_;
    Metrics metrics_;
    ModelBox model_;
    AnalysisPool pool_;
    LiveSessions sessions_;
    mutable std::mutex subjects_mu_;
    std::set<std::string> empty_subjects_;  // CompreFace subjects added without an example yet
    std::mutex write_mu_;  // one change at a time
    std::mutex job_mu_;
    Json job_ = nullptr;  // the change in progress: {"action","stage","fraction","person"}
    BucketSync sync_;
};

void Service::route(const char* method, const char* pattern, const char* endpoint, Handler h) {
    const bool compreface = std::strncmp(endpoint, "compreface", 10) == 0;
    auto wrapped = [this, endpoint, compreface, h = std::move(h)](const Request& req, Response& res) {
        tl_endpoint = endpoint;
        // The status comes from the exception's type (see server.h), never its text.
        try {
            h(req, res);
        } catch (const HttpError& e) {
            fail(req, res, e.status, e.what(), compreface);
        } catch (const UsageError& e) {
            fail(req, res, 400, e.what(), compreface);
        } catch (const NotFoundError& e) {
            fail(req, res, 404, e.what(), compreface);
        } catch (const LimitError& e) {
            fail(req, res, 413, e.what(), compreface);
        } catch (const ModelError& e) {
            fail(req, res, 503, e.what(), compreface);
        } catch (const Error& e) {
            fail(req, res, 422, e.what(), compreface);
        } catch (const std::bad_alloc&) {
            spdlog::error("{} {}: out of memory", req.method, printable(req.path));
            fail(req, res, 503, "out of memory, retry later", compreface);
        } catch (const std::exception& e) {
            spdlog::error("{} {}: internal error: {}", req.method, printable(req.path), printable(e.what()));
            fail(req, res, 500, "internal error", compreface);
        } catch (...) {
            spdlog::error("{} {}: internal error: unknown exception", req.method, printable(req.path));
            fail(req, res, 500, "internal error", compreface);
        }
    };
    httplib::Server& r = http_.routes();
    if (!std::strcmp(method, "GET")) r.Get(pattern, wrapped);
    else if (!std::strcmp(method, "POST")) r.Post(pattern, wrapped);
    else if (!std::strcmp(method, "DELETE")) r.Delete(pattern, wrapped);
    else throw std::logic_error(std::string("route: method ") + method);
}

void Service::fail(const Request& req, Response& res, int status, const std::string& message, bool compreface) const {
    if (status >= 500) spdlog::warn("{} {}: {} {}", req.method, printable(req.path), status, message);
    else spdlog::info("{} {}: {} {}", req.method, printable(req.path), status, message);
    Json j = {{"error", message}};
    if (compreface) j["message"] = message;  // CompreFace's field, for its clients
    res.headers.clear();
    reply(res, status, j);
    if (status == 503) res.set_header("Retry-After", "1");
}

// With an API key, everything but the login form needs it (server_auth.h):
// an API call without it gets 401, a page a redirect to the form.
int Service::gate(const Request& req, Response& res) const {
    tl_endpoint = nullptr;
    const std::string why = cross_site_refusal(req.method, req.get_header_value("Host"),
                                               req.get_header_value("Origin"), http_.loopback_only());
    if (!why.empty()) {
        reply(res, 403, {{"error", why}});
        return 403;
    }
    if (!auth_.enabled() || req.path == "/login" || req.path == "/logout") return 0;
    if (auth_.allows(req.get_header_value("x-api-key"), req.get_header_value("Cookie"))) return 0;
    const bool api = req.path.rfind("/api/", 0) == 0 || req.path == "/metrics";
    if (!api && req.method == "GET") {
        res.status = 303;
        res.set_header("Location", "/login?next=" + url_encode(req.target));
        return 303;
    }
    reply(res, 401, {{"error", "missing or wrong API key: send it in the x-api-key header, or log in at /login"}});
    return 401;
}

void Service::log(const Request& req, const Response& res, double ms) {
    // Refusals before any handler ran (transport limits, 503, the key) get their one line here.
    if (!tl_endpoint && res.status >= 400)
        spdlog::info("{} {}: {} {}", req.method, printable(req.path), res.status, printable(res.body.substr(0, 300)));
    const char* endpoint = tl_endpoint ? tl_endpoint : req.path.rfind("/api/", 0) == 0 ? "other" : "page";
    tl_endpoint = nullptr;
    metrics_.observe(endpoint, req.method, res.status, ms / 1000);
    spdlog::debug("{} {} {} {:.1f} ms", req.method, printable(req.path), res.status, ms);
}

// The image of a request: an image/* body, a multipart `file` field, or
// JSON {"file": "<base64>"} (CompreFace's form).
Upload Service::upload_of(const Request& req) const {
    const std::string type = media_type(req.get_header_value("Content-Type"));
    if (type == "multipart/form-data") {
        if (!req.has_file("file")) throw HttpError(400, "multipart body", "has no 'file' field");
        const auto f = req.get_file_value("file");
        return {f.filename.empty() ? "upload" : f.filename, f.content};
    }
    if (type.rfind("image/", 0) == 0 || type == "application/octet-stream") return {"upload", req.body};
    if (type == "application/json") {
        const Json j = Json::parse(req.body, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw HttpError(400, "JSON body", "is not a JSON object");
        if (!j.contains("file") || !j["file"].is_string())
            throw HttpError(400, "JSON body", "needs a \"file\" field: the image in base64");
        auto bytes = decode_base64(j["file"].get_ref<const std::string&>());
        if (!bytes) throw HttpError(400, "file", "is not valid base64");
        return {"upload", std::move(*bytes)};
    }
    throw HttpError(415, "Content-Type",
                    "'" + type + "': send an image (image/*), multipart/form-data with a 'file' field, "
                                 "or JSON {\"file\": \"<base64>\"}");
}

std::pair<ImageLabels, std::shared_ptr<const Classifier>> Service::label(const Upload& up) {
    auto c = model_.current();
    if (!c) throw ModelError(o_.enroll.model.string(), "no model yet: enrol someone first");
    auto slot = pool_.acquire();
    if (slot->classifier != c) {
        slot->predictor = std::make_unique<Predictor>(models_, c, o_.predict, o_.enroll.model.string());
        slot->classifier = c;
    }
    ImageLabels r = slot->predictor->label_bytes(up.bytes, up.name);
    metrics_.add_faces(r.faces.size());
    return {std::move(r), std::move(c)};
}

void Service::recognize(const Request& req, Response& res) {
    const auto [r, c] = label(upload_of(req));
    if (!r.ok()) throw HttpError(r.over_limit ? 413 : 400, r.input, r.error);
    reply(res, 200, image_labels_json(r));
}

void Service::compreface_recognize(const Request& req, Response& res) {
    const CompreFaceQuery q = parse_compreface_query([&](const char* k) { return req.get_param_value(k); });
    const auto [r, c] = label(upload_of(req));
    if (!r.ok()) throw HttpError(r.over_limit ? 413 : 400, r.input, r.error);
    if (r.faces.empty()) {  // CompreFace's answer, which its clients look for
        reply(res, 400, {{"error", "No face is found in the given image"},
                         {"message", "No face is found in the given image"},
                         {"code", 28}});
        return;
    }
    reply(res, 200, facepipe::compreface_recognize(r, *c, q));
}

template <class Work>
auto Service::change(const char* action, const std::string& person, bool removal, Work work) {
    std::lock_guard<std::mutex> one_at_a_time(write_mu_);
    auto set_job = [&](Json j) {
        std::lock_guard<std::mutex> lock(job_mu_);
        job_ = std::move(j);
    };
    set_job({{"action", action}, {"person", person}, {"stage", "check"}, {"fraction", 0.0}});
    EnrollOptions eo = o_.enroll;
    eo.progress = [&](std::string_view stage, double fraction) {
        set_job({{"action", action}, {"person", person}, {"stage", stage}, {"fraction", fraction}});
    };
    struct Clear {  // whatever happens, the job ends
        std::function<void()> f;
        ~Clear() { f(); }
    } clear{[&] { set_job(nullptr); }};
    auto report = work(eo);
    if (report.retrained) {
        wait_for_model(report);
        sync_.request(removal);
    }
    return report;
}

void Service::wait_for_model(const RetrainReport& r) {
    if (!model_.wait_for(r.training_id, std::chrono::seconds(30)))
        spdlog::warn("{}: the retrained model ({}) is not in use yet", printable(o_.enroll.model.string()),
                     r.training_id.substr(0, 12));
}

void Service::enrol(const Request& req, Response& res) {
    const std::string name = req.matches[1];
    enroll_name(name);  // a bad name is refused before the photos are looked at
    const std::vector<Photo> photos = photos_of(req);
    const EnrollReport r = change("enrol", name, false, [&](const EnrollOptions& eo) {
        return enroll(name, photos, eo, models_);
    });
    Json verdicts = Json::array();
    bool any = false;
    for (const auto& v : r.verdicts) {
        verdicts.push_back(verdict_json(v));
        any = any || !v.refused();
    }
    Json j = {{"person", r.person},
              {"new_person", r.new_person},
              {"photos", verdicts},
              {"retrained", r.retrained},
              {"training_id", r.retrained ? Json(r.training_id) : Json(nullptr)},
              {"people", r.retrained ? r.people_after : r.people_before}};
    if (!any) j["error"] = "no photo was accepted: see each photo's verdict";
    reply(res, any ? 200 : 422, j);
}

void Service::people(const Request&, Response& res) const {
    Json people = Json::array();
    for (const PersonInfo& p : list_people(o_.enroll.dataset)) {
        Json photos = Json::array();
        for (const PhotoInfo& f : p.photos)
            photos.push_back({{"id", f.id}, {"url", "/api/v1/people/" + url_encode(p.name) + "/photos/" + url_encode(f.id)}});
        people.push_back({{"name", p.name}, {"count", p.photos.size()}, {"photos", photos}});
    }
    reply(res, 200, {{"people", people}});
}

void Service::photo(const Request& req, Response& res) const {
    const PhotoInfo p = find_photo(o_.enroll.dataset, req.matches[1].str(), req.matches[2].str());
    res.status = 200;
    res.set_content(read_file(p.path, o_.predict.limits.max_file_bytes), photo_content_type(p.id));
    res.set_header("Cache-Control", "private, no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
}

RemoveReport Service::remove(const std::string& person, const std::string& photo_id) {
    return change("remove", person, true, [&](const EnrollOptions& eo) {
        return photo_id.empty() ? facepipe::remove_person(person, eo, models_)
                                : facepipe::remove_photo(person, photo_id, eo, models_);
    });
}

void Service::remove_person(const Request& req, Response& res) {
    reply(res, 200, change_json(remove(req.matches[1].str())));
}

void Service::remove_photo(const Request& req, Response& res) {
    reply(res, 200, change_json(remove(req.matches[1].str(), req.matches[2].str())));
}

void Service::live_frame(const Request& req, Response& res) {
    const std::string id = session_id(req);
    const ModelWatcher* w = model_.watcher();
    if (!w) throw ModelError(o_.enroll.model.string(), "no model yet: enrol someone first");
    const Upload up = upload_of(req);
    LoadedImage img;
    try {
        img = decode_image(up.bytes, "frame", o_.predict.limits);
    } catch (const LimitError&) {
        throw;
    } catch (const Error& e) {
        throw HttpError(400, "frame", e.cause());
    }
    auto session = sessions_.get(id);
    std::lock_guard<std::mutex> one_frame_at_a_time(session->mu);
    auto slot = pool_.acquire();
    if (!slot->live) {
        AnalyzerOptions a = LiveOptions::live_analyzer_defaults();
        a.detector.threads = o_.predict.analyzer.detector.threads;  // the cores analyses leave spare (serve())
        a.detector.kind = o_.predict.analyzer.detector.kind;        // the gallery's detector (--detector)
        a.detector.min_score = o_.predict.analyzer.detector.min_score;
        slot->live = std::make_unique<FaceAnalyzer>(models_, a);
    }
    const LiveSession::Result r = session->live.process(img.bgr, *w, *slot->live);
    session->last_used = Clock::now();
    if (session->collect)
        session->collect->frame(img.bgr, std::chrono::duration<double>(session->last_used - session->started).count(),
                                r.faces, r.events, session->live.classifier());
    std::uint64_t appeared = 0;
    for (const auto& e : r.events) appeared += e.kind == TrackEvent::Kind::appeared;
    metrics_.add_faces(appeared);
    Json faces = Json::array();
    const double k = img.scale;  // frame pixels -> the sent image's pixels
    for (const TrackedFace& f : r.faces)
        faces.push_back({{"track", f.id},
                         {"box", {std::lround(f.box.x * k), std::lround(f.box.y * k), std::lround(f.box.width * k),
                                  std::lround(f.box.height * k)}},
                         {"label", f.label},
                         {"distance", std::round(f.distance * 1e4) / 1e4},
                         {"known", f.known}});
    reply(res, 200,
          {{"frame", r.frame},
           {"faces", faces},
           {"ms", std::round(r.ms * 10) / 10},
           {"training_id", session->live.classifier().training_id()}});
}

// CompreFace's examples are facepipe's stored photos.
void Service::compreface_faces(const Request& req, Response& res) const {
    const std::string subject = req.get_param_value("subject");
    Json faces = Json::array();
    for (const PersonInfo& p : list_people(o_.enroll.dataset)) {
        if (!subject.empty() && p.name != subject) continue;
        for (const PhotoInfo& f : p.photos)
            faces.push_back({{"image_id", compreface_image_id(p.name, f.id)}, {"subject", p.name}});
    }
    const auto n = faces.size();
    reply(res, 200,
          {{"faces", faces}, {"page_number", 0}, {"page_size", n}, {"total_pages", n ? 1 : 0}, {"total_elements", n}});
}

void Service::compreface_delete_faces(const Request& req, Response& res) {
    const std::string subject = req.get_param_value("subject");
    if (subject.empty())
        throw UsageError("subject", "is required: deleting every example at once is not offered (?subject=NAME)");
    const RemoveReport r = remove(subject);
    reply(res, 200, {{"deleted", r.removed.size()}});
}

void Service::compreface_delete_face(const Request& req, Response& res) {
    const std::string image_id = req.matches[1];
    for (const PersonInfo& p : list_people(o_.enroll.dataset))
        for (const PhotoInfo& f : p.photos)
            if (compreface_image_id(p.name, f.id) == image_id) {
                remove(p.name, f.id);
                reply(res, 200, {{"image_id", image_id}, {"subject", p.name}});
                return;
            }
    throw NotFoundError("image_id '" + image_id + "'", "no such example");
}

void Service::compreface_subjects(const Request&, Response& res) const {
    std::set<std::string> names;
    for (const PersonInfo& p : list_people(o_.enroll.dataset)) names.insert(p.name);
    {
        std::lock_guard<std::mutex> lock(subjects_mu_);
        names.insert(empty_subjects_.begin(), empty_subjects_.end());
    }
    reply(res, 200, {{"subjects", Json(std::vector<std::string>(names.begin(), names.end()))}});
}

// A subject with no example yet exists only in this process (facepipe's
// dataset holds people with photos): it is listed until its first example
// makes it a person, or until the server restarts.
void Service::compreface_add_subject(const Request& req, Response& res) {
    const Json j = Json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("subject") || !j["subject"].is_string())
        throw HttpError(400, "JSON body", "needs a \"subject\" string");
    const std::string name = enroll_name(j["subject"].get<std::string>());
    {
        std::lock_guard<std::mutex> lock(subjects_mu_);
        if (empty_subjects_.size() >= 10000) throw HttpError(400, "subjects", "too many subjects without examples");
        empty_subjects_.insert(name);
    }
    reply(res, 201, {{"subject", name}});
}

void Service::compreface_delete_subject(const Request& req, Response& res) {
    const std::string name = enroll_name(req.matches[1].str());
    {
        std::lock_guard<std::mutex> lock(subjects_mu_);
        if (empty_subjects_.erase(name) && person_folder(o_.enroll.dataset, name).empty()) {
            reply(res, 200, {{"subject", name}});
            return;
        }
    }
    const RemoveReport r = remove(name);
    reply(res, 200, {{"subject", r.person}});
}

// CompreFace's "add an example of a subject": one photo, one face.
void Service::compreface_add(const Request& req, Response& res) {
    const std::string subject = req.get_param_value("subject");
    if (subject.empty()) throw UsageError("subject", "the query parameter is required (?subject=NAME)");
    enroll_name(subject);
    Upload up = upload_of(req);
    const EnrollReport r = change("enrol", subject, false, [&](const EnrollOptions& eo) {
        return enroll(subject, {Photo{up.name, std::move(up.bytes)}}, eo, models_);
    });
    const PhotoVerdict& v = r.verdicts.at(0);
    if (v.refused()) {
        const bool no_face = v.kind == PhotoVerdict::Kind::no_face;
        const std::string message = no_face ? "No face is found in the given image" : v.line();
        Json j = {{"error", message}, {"message", message}};
        if (no_face) j["code"] = 28;
        reply(res, v.kind == PhotoVerdict::Kind::too_large ? 413 : 400, j);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(subjects_mu_);
        empty_subjects_.erase(r.person);
    }
    reply(res, 201, {{"image_id", compreface_image_id(r.person, v.id)}, {"subject", r.person}});
}

void Service::health(const Request&, Response& res) const {
    const ModelWatcher* w = model_.watcher();
    const auto c = model_.current();
    reply(res, 200,
          {{"status", "ok"},
           {"training_id", c ? Json(c->training_id()) : Json(nullptr)},
           {"people", c ? c->names().size() : 0},
           {"model_generation", w ? Json(w->generation()) : Json(nullptr)}});
}

void Service::metrics(const Request&, Response& res) const {
    std::vector<MetricSample> s;
    const ModelWatcher* w = model_.watcher();
    const auto c = model_.current();
    if (c) {
        s.push_back({"facepipe_model_info", "The model in use (value 1), by training id and face models.", "gauge",
                     {{"training_id", c->training_id()}, {"model_id", c->model_id()}}, 1});
        s.push_back({"facepipe_model_people", "People the model in use names.", "gauge", {},
                     static_cast<double>(c->names().size())});
    }
    s.push_back({"facepipe_model_reloads_total", "Switches to a retrained model since start.", "counter", {},
                 w ? static_cast<double>(w->generation()) : 0});
    s.push_back({"facepipe_model_reloads_refused_total", "Retrained models refused (corrupt, mismatched).", "counter",
                 {}, w ? static_cast<double>(w->refused()) : 0});
    const HttpCounters& h = http_.counters();
    s.push_back({"facepipe_http_connections_total", "Connections accepted.", "counter", {},
                 static_cast<double>(h.connections.load())});
    s.push_back({"facepipe_http_busy_total", "Connections answered 503 because every worker and the queue were busy.",
                 "counter", {}, static_cast<double>(h.busy.load())});
    s.push_back({"facepipe_http_dropped_total", "Connections closed unanswered under overload.", "counter", {},
                 static_cast<double>(h.dropped.load())});
    s.push_back({"facepipe_http_timeouts_total", "Connections cut off by --read-timeout or --write-timeout.",
                 "counter", {}, static_cast<double>(h.timed_out.load())});
    s.push_back({"facepipe_http_active_connections", "Connections being served.", "gauge", {},
                 static_cast<double>(h.active.load())});
    s.push_back({"facepipe_http_queued_connections", "Connections waiting for a worker.", "gauge", {},
                 static_cast<double>(h.queued.load())});
    s.push_back({"facepipe_live_sessions", "Live sessions (browser tabs) open.", "gauge", {},
                 static_cast<double>(sessions_.size())});
    res.status = 200;
    res.set_content(metrics_.render(s), "text/plain; version=0.0.4; charset=utf-8");
}

void Service::job(const Request&, Response& res) {
    std::lock_guard<std::mutex> lock(job_mu_);
    reply(res, 200, job_);
}

fs::path Service::unknown_dir() const {
    if (!o_.unknown_dir.empty()) return o_.unknown_dir;
    return o_.collect.enabled() ? o_.collect.dir : default_unknown_dir(o_.enroll.model);  // what serve collects
}

std::uint64_t Service::group_id(const std::string& text) const {
    std::uint64_t id = 0;
    const bool ok = !text.empty() && text.size() <= 19 &&
                    std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (ok) id = std::stoull(text);
    if (!ok || id == 0) throw UsageError("group '" + text + "'", "is not a group id (a positive number)");
    return id;
}

// Runs f; a group no face has (any more) is a 404.
template <class F>
auto Service::on_group(F f) const {
    try {
        return f();
    } catch (const GroupNotFound& e) {
        throw NotFoundError(e.subject(), e.cause());
    }
}

// {"groups": [...]} as `cluster --format json` prints it, each member with the
// URL of its crop; ?threshold= and ?min_size= as cluster's flags.
void Service::unknown_groups(const Request& req, Response& res) const {
    ClusterOptions co;
    auto number = [&](const char* key, double lo, double hi, double fallback) {
        const std::string v = req.get_param_value(key);
        if (v.empty()) return fallback;
        char* end = nullptr;
        const double d = std::strtod(v.c_str(), &end);
        if (end != v.c_str() + v.size() || !(d >= lo && d <= hi))
            throw UsageError(key, "'" + v + "' is not a number from " + format_number("%g", lo) + " to " +
                                      format_number("%g", hi));
        return d;
    };
    co.threshold = static_cast<float>(number("threshold", 0.05, 2.0, co.threshold));
    co.min_size = static_cast<int>(number("min_size", 1, 1e6, co.min_size));
    UnknownStore store(unknown_dir());
    const auto c = model_.current();
    const Grouping g = cluster_store(store, co, c.get());
    Json j = Json::parse(format_groups_json(g, store.dir()));
    for (auto& group : j["groups"])
        for (auto& m : group["members"]) {
            m.erase("crop");  // a server path: the page gets a URL instead
            m["url"] = "api/v1/unknown/faces/" + std::to_string(m["id"].get<std::uint64_t>());
        }
    j["faces"] = g.faces.size();
    j["threshold"] = co.threshold;
    reply(res, 200, j);
}

void Service::unknown_face(const Request& req, Response& res) const {
    const std::uint64_t id = group_id(req.matches[1]);  // a face id has the same form
    UnknownStore store(unknown_dir());
    for (const UnknownFace& f : store.faces())
        if (f.id == id) {
            res.status = 200;
            res.set_content(read_file((store.dir() / f.crop()).string(), o_.predict.limits.max_file_bytes), "image/jpeg");
            res.set_header("Cache-Control", "private, no-cache");
            res.set_header("X-Content-Type-Options", "nosniff");
            return;
        }
    throw NotFoundError("face " + std::to_string(id), "not among the unknown faces");
}

// POST {"name": NAME}: the group is enrolled as NAME (enrol's change: one at a time, then the new model answers).
void Service::unknown_name(const Request& req, Response& res) {
    const std::uint64_t group = group_id(req.matches[1]);
    const Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("name") || !body["name"].is_string())
        throw HttpError(400, "JSON body", "needs {\"name\": \"NAME\"}");
    const std::string name = body["name"];
    enroll_name(name);
    UnknownStore store(unknown_dir());
    NameReport named;
    on_group([&] {
        return change("enrol", name, false, [&](const EnrollOptions& eo) {
            named = name_group(store, group, name, eo, models_);
            return named.enroll;  // change() waits for its model, as for an enrol
        });
    });
    const EnrollReport& r = named.enroll;
    Json verdicts = Json::array();
    for (const auto& v : r.verdicts) verdicts.push_back(verdict_json(v));
    Json j = {{"group", group}, {"person", r.person}, {"new_person", r.new_person}, {"photos", verdicts},
              {"removed", named.removed}, {"kept", named.kept},
              {"retrained", r.retrained}, {"training_id", r.retrained ? Json(r.training_id) : Json(nullptr)},
              {"people", r.retrained ? r.people_after : r.people_before}};
    if (named.removed.empty()) j["error"] = "no face of the group was accepted: see each photo's verdict";
    reply(res, named.removed.empty() ? 422 : 200, j);
}

void Service::unknown_forget(const Request& req, Response& res) {
    const std::uint64_t group = group_id(req.matches[1]);
    UnknownStore store(unknown_dir());
    const std::size_t n = on_group([&] { return forget_group(store, group); });
    reply(res, 200, {{"group", group}, {"removed", n}});
}

// POST {"group": B}: B joins this group.
void Service::unknown_merge(const Request& req, Response& res) {
    const std::uint64_t into = group_id(req.matches[1]);
    const Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("group") || !body["group"].is_number_unsigned())
        throw HttpError(400, "JSON body", "needs {\"group\": ID}, the group that joins this one");
    const std::uint64_t from = body["group"];
    UnknownStore store(unknown_dir());
    on_group([&] {
        merge_groups(store, into, from);
        return 0;
    });
    reply(res, 200, {{"group", into}, {"merged", from}});
}

void Service::page(const Request& req, Response& res) const {
    const WebAsset* a = find_web_asset(req.path == "/login" ? "/login.html" : req.path);
    if (!a && req.path.rfind("/api/", 0) == 0) throw HttpError(404, req.path, "no such endpoint");
    if (!a) {
        if (req.path == "/login") {
            res.status = 200;
            res.set_content(kLoginFallback, "text/html; charset=utf-8");
            return;
        }
        throw HttpError(404, req.path, "no such page");
    }
    res.status = 200;
    res.set_content(std::string(reinterpret_cast<const char*>(a->data), a->size), web_content_type(a->path));
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    // same-origin, not no-referrer: under no-referrer a browser sends "Origin: null"
    // with the pages' own POSTs and DELETEs (and the login form), which
    // cross_site_refusal must refuse. No referrer leaves for another site either way.
    res.set_header("Referrer-Policy", "same-origin");
}

void Service::login(const Request& req, Response& res) const {
    const std::string next = safe_redirect_target(req.get_param_value("next"));
    res.status = 303;
    if (!auth_.enabled()) {
        res.set_header("Location", next);
        return;
    }
    if (!auth_.is_key(req.get_param_value("key"))) {
        spdlog::info("POST /login: wrong key from {}", req.remote_addr);
        res.set_header("Location", "/login?failed=1&next=" + url_encode(next));
        return;
    }
    res.set_header("Set-Cookie", auth_.set_cookie(http_.tls()));
    res.set_header("Location", next);
}

void Service::logout(const Request&, Response& res) const {
    res.status = 303;
    if (auth_.enabled()) res.set_header("Set-Cookie", auth_.set_cookie(http_.tls(), true));
    res.set_header("Location", "/login");
}

void Service::add_routes() {
    auto h = [this](auto member) {
        return [this, member](const Request& req, Response& res) { (this->*member)(req, res); };
    };
    route("POST", "/api/v1/recognize", "recognize", h(&Service::recognize));
    route("GET", "/api/v1/health", "health", h(&Service::health));
    route("GET", "/api/v1/jobs/current", "job", h(&Service::job));
    route("GET", "/metrics", "metrics", h(&Service::metrics));
    route("POST", "/api/v1/people/([^/]+)/photos", "enrol", h(&Service::enrol));
    route("GET", "/api/v1/people", "people", h(&Service::people));
    route("GET", "/api/v1/people/([^/]+)/photos/([^/]+)", "photo", h(&Service::photo));
    route("DELETE", "/api/v1/people/([^/]+)", "remove_person", h(&Service::remove_person));
    route("DELETE", "/api/v1/people/([^/]+)/photos/([^/]+)", "remove_photo", h(&Service::remove_photo));
    route("POST", "/api/v1/live/frame", "live_frame", h(&Service::live_frame));
    route("POST", "/api/v1/recognition/recognize", "compreface_recognize", h(&Service::compreface_recognize));
    route("POST", "/api/v1/recognition/faces", "compreface_add", h(&Service::compreface_add));
    route("GET", "/api/v1/recognition/faces", "compreface_faces", h(&Service::compreface_faces));
    route("DELETE", "/api/v1/recognition/faces", "compreface_delete", h(&Service::compreface_delete_faces));
    route("DELETE", "/api/v1/recognition/faces/([^/]+)", "compreface_delete", h(&Service::compreface_delete_face));
    route("GET", "/api/v1/recognition/subjects", "compreface_subjects", h(&Service::compreface_subjects));
    route("POST", "/api/v1/recognition/subjects", "compreface_subjects", h(&Service::compreface_add_subject));
    route("DELETE", "/api/v1/recognition/subjects/([^/]+)", "compreface_subjects", h(&Service::compreface_delete_subject));
    route("GET", "/api/v1/unknown/groups", "unknown", h(&Service::unknown_groups));
    route("GET", "/api/v1/unknown/faces/([^/]+)", "unknown", h(&Service::unknown_face));
    route("POST", "/api/v1/unknown/groups/([^/]+)/name", "unknown_change", h(&Service::unknown_name));
    route("POST", "/api/v1/unknown/groups/([^/]+)/merge", "unknown_change", h(&Service::unknown_merge));
    route("DELETE", "/api/v1/unknown/groups/([^/]+)", "unknown_change", h(&Service::unknown_forget));
    route("POST", "/login", "login", h(&Service::login));
    route("POST", "/logout", "login", h(&Service::logout));
    route("GET", "/.*", "page", h(&Service::page));
}

}  // namespace

void parse_listen(const std::string& text, HttpOptions& http) {
    std::string host, port;
    if (!text.empty() && text[0] == '[') {
        const size_t close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            throw UsageError("--listen", "'" + text + "': expected [IPv6]:PORT");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon)
            throw UsageError("--listen", "'" + text + "': expected HOST:PORT, [IPv6]:PORT or :PORT");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end || p < 0 || p > 65535)
        throw UsageError("--listen", "'" + text + "': the port must be a number from 0 to 65535");
    http.host = host.empty() ? "0.0.0.0" : host;
    http.port = static_cast<int>(p);
}

std::string default_sync_command() {
    const char* bucket = std::getenv("FACEPIPE_BUCKET");
    if (!bucket || !*bucket) return "";
    if (const char* s = std::getenv("FACEPIPE_SYNC"); s && *s) return s;
    char exe[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        const fs::path dir = fs::path(exe).parent_path();
        // Beside the binary, in the build tree's scripts/, or where the package puts it (cmake/package.cmake).
        for (const fs::path& p : {dir / "sync.sh", dir / ".." / "scripts" / "sync.sh",
                                  dir / ".." / "share" / "facepipe" / "scripts" / "sync.sh"}) {
            std::error_code ec;
            if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
        }
    }
    spdlog::warn("FACEPIPE_BUCKET is set but no sync.sh was found (set FACEPIPE_SYNC): changes are not pushed");
    return "";
}

void serve(const ServeOptions& options, const ModelFiles& files, const std::atomic<bool>& stop,
           const std::function<void(const HttpServer&)>& on_ready) {
    ServeOptions o = options;
    o.threads = resolve_threads(o.threads);
    if (o.threads > 256) throw UsageError("--threads", "at most 256");
    // Fewer analyses at once than cores: each image's (or frame's) detection gets the spare ones.
    o.predict.analyzer.detector.threads = std::max(1, resolve_threads(0) / o.threads);
    // Analyses use `threads` workers; 4 more keep pages, health and metrics answering meanwhile.
    o.http.workers = o.threads + 4;
    HttpServer http(o.http);
    if (!http.loopback_only() && o.api_key.empty())
        throw UsageError("--listen", o.http.host + " is not a loopback address: listening on it needs an API key "
                                                   "(--api-key-file or FACEPIPE_API_KEY)");
    auto models = LoadedModels::load(files);
    models->wait();  // a ModelError now, not on the first request
    // Requests are analysed in parallel (`threads` of them), as encode analyses
    // images: one BLAS thread each, not nested pools contending for the cores.
    // (Enrolment's encode would set it anyway, midway through the server's life.)
    set_blas_threads(1);
    if (o.collect.enabled()) o.predict.collect = std::make_shared<UnknownCollector>(o.collect, models);
    {  // the Service (and its live sessions) ends before the summary line
        Service service(o, models, http);
        spdlog::info("listening on {}://{}:{}/ ({} analysis threads{})", http.tls() ? "https" : "http", o.http.host,
                     http.port(), o.threads, o.api_key.empty() ? ", no API key" : ", API key required");
        if (on_ready) on_ready(http);
        std::atomic<bool> done{false};
        std::thread stopper([&] {
            while (!stop && !done) std::this_thread::sleep_for(milliseconds(50));
            http.stop();
        });
        http.run();
        done = true;
        stopper.join();
    }
    if (o.predict.collect) spdlog::info("{}", format_collect_summary(o.predict.collect->counters(), o.collect.dir));
    spdlog::info("stopped");
}

}  // namespace facepipe
