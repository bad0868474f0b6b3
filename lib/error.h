// error.h — the one exception type facepipe's library throws for bad input.
//
// Contract: what() is a single printable line, "<subject>: <cause>", where
// subject is the file (or flag, or record) at fault. The binary prints it as is and moves on to
// the next item of a batch, so the message must stand alone.
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

}  // namespace facepipe
