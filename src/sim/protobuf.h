// Kubernetes protobuf request bodies (Content-Type application/vnd.kubernetes.protobuf), decoded into
// the JSON the rest of the sim works with. Go clients configured for protobuf send them — kubectl's
// generators among them (`kubectl create configmap|secret|namespace|priorityclass|quota|service|
// serviceaccount|deployment`) — so a faithful stand-in API server has to read them.
//
// Wire format: the 4-byte magic "k8s\0", then a runtime.Unknown message {1 typeMeta {1 apiVersion,
// 2 kind}, 2 raw, 3 contentEncoding, 4 contentType} whose raw bytes are the object's own message as
// k8s.io/api's generated.proto defines it. protobuf.cc holds one field table per message type the
// sim decodes (every built-in kind it serves except CustomResourceDefinition, plus Binding, Scale and
// DeleteOptions); a small table-driven wire decoder walks them.
//
// The JSON is what Go's encoding/json makes of the typed object: omitempty scalars at their zero
// value are left out, pointer fields (which Go only sends when set) are kept even at zero, embedded
// structs are inlined, Time is RFC 3339 in seconds (zero: left out), MicroTime has microseconds,
// Quantity is its string, IntOrString a number or a string, []byte base64.
//
// Thread-safety: pure functions; the field tables are immutable after first use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sim/store.h"

namespace prescient::sim {

inline constexpr std::string_view kProtobufMagic{"k8s\0", 4};

// A field number the decoder has no table entry for. It is skipped; the handler rejects it under
// fieldValidation=Strict and warns under Warn, as it does for unknown JSON fields.
struct UnknownProtobufField {
  std::string path;          // JSON path of the message holding it: "spec.ports[0]"; "" for the object
  std::string message_type;  // "ServicePort"
  uint32_t number = 0;
  // "field number 9 of spec.ports[0] (ServicePort)", or "field number 9 of ConfigMap" at the top.
  std::string ToString() const;
};

struct ProtobufObject {
  Json object;  // apiVersion and kind come from the envelope
  // The first kMaxUnknownFields distinct ones; a body full of them must not become a huge error
  // message or thousands of Warning headers.
  std::vector<UnknownProtobufField> unknown_fields;
  size_t more_unknown_fields = 0;  // distinct or not, beyond those listed
  static constexpr size_t kMaxUnknownFields = 20;
};

// Decodes one request body. Errors: 400 BadRequest for malformed bytes (the message names the
// field path and the byte offset); 415 UnsupportedMediaType naming the kind when the sim has no
// field table for it.
Result<ProtobufObject> DecodeProtobufObject(std::string_view body);

// Whether DecodeProtobufObject has a field table for this kind ("v1", "ConfigMap").
bool CanDecodeProtobuf(std::string_view api_version, std::string_view kind);

}  // namespace prescient::sim
