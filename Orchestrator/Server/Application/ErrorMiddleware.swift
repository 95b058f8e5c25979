import Foundation
import Hummingbird
import Logging
package import StellwerkAPI
import Store

/// A refusal or failure the API answers with: an ``ErrorCode`` and a sentence that says what and why.
/// The engines throw it without knowing HTTP; the error middleware picks the status.
package struct APIError: Error, CustomStringConvertible, Sendable {
    package var code: ErrorCode
    package var message: String

    package init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }
    static func conflict(_ message: String) -> APIError { APIError(.conflict, message) }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, message) }
    static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, message) }

    package var description: String { message }

    /// The HTTP status each code is answered with.
    var status: HTTPResponse.Status {
        switch code {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .conflict, .stalePlan, .gateClosed, .policyMismatch: .conflict
        case .tooLarge: .contentTooLarge
        case .rangeNotSatisfiable: .rangeNotSatisfiable
        case .tooManyRequests: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }
}

/// Turns every error into a JSON ``ErrorBody``, so clients never see an HTML page, a Swift dump or a
/// dropped connection; what went wrong inside goes to the log, not to the client.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let logger: Logger

    func handle(
        _ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let failure = Self.apiError(error, request: request)
            if failure.code == .internal {
                logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            }
            return JSONResponse.make(ErrorBody(code: failure.code, message: failure.message), status: failure.status)
        }
    }

    static func apiError(_ error: any Error, request: Request) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as HTTPError:
            switch error.status.code {
            case 400: return .badRequest(error.body ?? "the request cannot be read")
            case 404 where error.body == nil: return .notFound("there is no \(request.method) \(request.uri.path)")
            case 404: return .notFound(error.body ?? "not found")
            case 405: return APIError(.methodNotAllowed, "\(request.uri.path) does not answer \(request.method)")
            case 413: return APIError(.tooLarge, "the request body is larger than this endpoint accepts")
            case 401: return .unauthorized(error.body ?? "unauthorized")
            case 403: return .forbidden(error.body ?? "forbidden")
            default:
                return error.status.code >= 500
                    ? APIError(.internal, "the server failed to answer; see its log")
                    : .badRequest(error.body ?? error.status.reasonPhrase)
            }
        case let error as StoreError:
            switch error.code {
            case .notFound: return .notFound(error.message)
            case .conflict: return .conflict(error.message)
            case .staleSerial: return APIError(.stalePlan, error.message)
            case .unavailable: return APIError(.unavailable, "the state store does not answer; see the server log")
            default: return APIError(.internal, "the state store failed; see the server log")
            }
        case let error as DecodingError:
            return .badRequest("the request body is not what this endpoint reads: \(JSONResponse.describe(error))")
        default:
            return APIError(.internal, "the server failed to answer; see its log")
        }
    }
}

/// JSON answers and bodies in the wire's one encoding.
enum JSONResponse {
    static let encoder = WireJSON.encoder()
    static let decoder = WireJSON.decoder()

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Reads a JSON body of at most `limit` bytes.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(.tooLarge, "the request body is larger than \(limit) bytes")
        }
        do {
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest("the request body is not a valid \(T.self): \(describe(error))")
        } catch {
            throw APIError.badRequest("the request body is not JSON")
        }
    }

    /// Where a body went wrong and how, without a Swift dump.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "the document" : names.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)' in \(path(context))"
        case .typeMismatch(_, let context): return "\(path(context)) has the wrong type"
        case .valueNotFound(_, let context): return "\(path(context)) is null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "it is not valid JSON" }
            // A value the wire does not know says which and what it could be (WireEnum).
            return context.debugDescription.hasPrefix("'")
                ? "\(path(context)): \(context.debugDescription)" : "\(path(context)) is not valid"
        @unknown default: return "it cannot be read"
        }
    }
}
