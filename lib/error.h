// error.h — the exception types facepipe's library throws.
//
// Contract: what() is a single printable line, "<subject>: <cause>", where
// subject is the file (or flag, or record) at fault. The binary prints it as is and moves on to
// the next item of a batch, so the message must stand alone.
//
// The type says what kind of failure it is, and so the exit code of the binary
// (mapped in one place, cmd/main.cpp): ModelError and UsageError exit 2, any other
// Error (bad input data) exits 1. The thrower decides, where it knows why.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace facepipe {

// `text` made safe for a one-line log message: control characters (newlines,
// escape codes) and bytes that are not UTF-8 become \n, \xNN and the like, so a
// hostile file or folder name can neither forge log lines nor drive a terminal.
std::string printable(std::string_view text);

class Error : public std::runtime_error {
public:
    Error(const std::string& subject, const std::string& cause)
        : std::runtime_error(printable(subject) + ": " + printable(cause)), subject_(subject), cause_(cause) {}
    const std::string& subject() const noexcept { return subject_; }
    const std::string& cause() const noexcept { return cause_; }

private:
    std::string subject_;
    std::string cause_;
};

// A model file is missing, unreadable or incompatible: nothing can be computed.
// The binary exits with 2 (not 1, which means "some inputs were bad").
class ModelError : public Error {
public:
    using Error::Error;
};

// The request itself cannot be carried out as asked: a flag or argument that is
// refused (e.g. an unsafe person name), or an environment the command needs and
// lacks (a window without a display). Nothing was done. The binary exits with 2.
class UsageError : public Error {
public:
    using Error::Error;
};

// Something named by the caller does not exist: a person or a photo of a
// person (people.h). Bad input as far as the binary goes (exit 1); the server
// answers 404.
class NotFoundError : public Error {
public:
    using Error::Error;
};

// An input is over a configured limit (image.h ImageLimits: the file's bytes or
// its pixels). Bad input (exit 1), refused before it could use up memory; the
// server answers 413; enroll's verdict is too_large.
class LimitError : public Error {
public:
    using Error::Error;
};

}  // namespace facepipe
