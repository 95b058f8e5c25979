import Foundation

/// RFC 7396 JSON Merge Patch: members given replace those stored, objects merge member by member,
/// `null` removes.
package enum JSONMerge {
    package static func merge(_ target: JSONValue, patch: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var members = target.members ?? []
        for (key, change) in changes {
            if change == .null {
                members.removeAll { $0.0 == key }
            } else if let index = members.firstIndex(where: { $0.0 == key }) {
                members[index].1 = merge(members[index].1, patch: change)
            } else {
                members.append((key, merge(.null, patch: change)))
            }
        }
        return .object(members)
    }
}

/// RFC 6902 JSON Patch (`add`, `remove`, `replace`, `move`, `copy`, `test`) on an entity's JSON.
/// The operations apply in order, all or none.
package enum JSONPatch {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    package static func apply(_ operations: JSONValue, to document: JSONValue) throws(Failure) -> JSONValue {
        guard case .array(let list) = operations else {
            throw Failure(description: "a JSON Patch is an array of operations")
        }
        guard list.count <= 1000 else { throw Failure(description: "a JSON Patch may hold at most 1000 operations") }
        var document = document
        for (index, operation) in list.enumerated() {
            let number = index + 1
            guard let name = operation["op"]?.string, let pathText = operation["path"]?.string else {
                throw Failure(description: "operation \(number) needs \"op\" and \"path\"")
            }
            let path = try pointer(pathText, operation: number)
            switch name {
            case "add":
                document = try set(document, path, try value(operation, number), adding: true, operation: number)
            case "remove":
                _ = try get(document, path, operation: number)
                document = try remove(document, path, operation: number)
            case "replace":
                _ = try get(document, path, operation: number)
                document = try set(document, path, try value(operation, number), adding: false, operation: number)
            case "move", "copy":
                guard let fromText = operation["from"]?.string else {
                    throw Failure(description: "operation \(number) (\(name)) needs \"from\"")
                }
                let from = try pointer(fromText, operation: number)
                let moved = try get(document, from, operation: number)
                if name == "move" {
                    guard !path.starts(with: from) || path == from else {
                        throw Failure(description: "operation \(number) moves \(fromText) into itself")
                    }
                    document = try remove(document, from, operation: number)
                }
                document = try set(document, path, moved, adding: true, operation: number)
            case "test":
                guard try get(document, path, operation: number) == value(operation, number) else {
                    throw Failure(description: "operation \(number): the test of \(pathText) failed")
                }
            default:
                throw Failure(description: "operation \(number): unknown op '\(name)'")
            }
        }
        return document
    }

    private static func value(_ operation: JSONValue, _ number: Int) throws(Failure) -> JSONValue {
        guard let value = operation["value"] else { throw Failure(description: "operation \(number) needs \"value\"") }
        return value
    }

    /// `/properties/depth` → ["properties", "depth"], with `~1` and `~0` unescaped.
    private static func pointer(_ text: String, operation: Int) throws(Failure) -> [String] {
        guard text.isEmpty || text.hasPrefix("/") else {
            throw Failure(description: "operation \(operation): the path '\(text)' must start with '/'")
        }
        return text.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ document: JSONValue, _ path: [String], operation: Int) throws(Failure) -> JSONValue {
        var current = document
        for token in path {
            switch current {
            case .object(let members):
                guard let next = members.first(where: { $0.0 == token })?.1 else {
                    throw Failure(description: "operation \(operation): nothing at /\(path.joined(separator: "/"))")
                }
                current = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else {
                    throw Failure(description: "operation \(operation): no index \(token) in the array")
                }
                current = items[index]
            default:
                throw Failure(description: "operation \(operation): nothing at /\(path.joined(separator: "/"))")
            }
        }
        return current
    }

    private static func set(
        _ document: JSONValue, _ path: [String], _ value: JSONValue, adding: Bool, operation: Int
    ) throws(Failure) -> JSONValue {
        guard let token = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var members):
            if let index = members.firstIndex(where: { $0.0 == token }) {
                members[index].1 =
                    rest.isEmpty ? value : try set(members[index].1, rest, value, adding: adding, operation: operation)
            } else {
                guard rest.isEmpty else {
                    throw Failure(description: "operation \(operation): no member '\(token)' to go into")
                }
                members.append((token, value))
            }
            return .object(members)
        case .array(var items):
            if rest.isEmpty && adding {
                if token == "-" {
                    items.append(value)
                } else {
                    guard let index = Int(token), (0...items.count).contains(index) else {
                        throw Failure(description: "operation \(operation): no index \(token) in the array")
                    }
                    items.insert(value, at: index)
                }
                return .array(items)
            }
            guard let index = Int(token), items.indices.contains(index) else {
                throw Failure(description: "operation \(operation): no index \(token) in the array")
            }
            items[index] =
                rest.isEmpty ? value : try set(items[index], rest, value, adding: adding, operation: operation)
            return .array(items)
        default:
            throw Failure(description: "operation \(operation): '\(token)' is inside neither an object nor an array")
        }
    }

    private static func remove(_ document: JSONValue, _ path: [String], operation: Int) throws(Failure) -> JSONValue {
        guard let token = path.first else { return .null }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var members):
            guard let index = members.firstIndex(where: { $0.0 == token }) else {
                throw Failure(description: "operation \(operation): no member '\(token)'")
            }
            if rest.isEmpty {
                members.remove(at: index)
            } else {
                members[index].1 = try remove(members[index].1, rest, operation: operation)
            }
            return .object(members)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else {
                throw Failure(description: "operation \(operation): no index \(token) in the array")
            }
            if rest.isEmpty {
                items.remove(at: index)
            } else {
                items[index] = try remove(items[index], rest, operation: operation)
            }
            return .array(items)
        default:
            throw Failure(description: "operation \(operation): '\(token)' is inside neither an object nor an array")
        }
    }
}
