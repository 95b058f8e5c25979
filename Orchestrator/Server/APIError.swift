import Foundation
package import Hummingbird
import Logging
import StellwerkAPI
import Store

/// An error the API answers with: a status and an ``ErrorBody`` saying what went wrong.
package struct APIError: Error, HTTPResponseError {
    package var status: HTTPResponse.Status
    package var code: String
    package var message: String

    package init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad-request", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not-found", message) }
    static func conflict(_ message: String) -> APIError { APIError(.conflict, "conflict", message) }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }
    static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "unauthorized", message) }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(ErrorBody(code: code, message: message), status: status)
    }
}

/// Turns every error into a JSON error body, so clients never see an HTML page or a dropped connection.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let logger: Logger

    func handle(
        _ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return JSONResponse.make(ErrorBody(code: error.code, message: error.message), status: error.status)
        } catch let error as HTTPError {
            let code: String =
                switch error.status.code {
                case 400: "bad-request"
                case 401: "unauthorized"
                case 403: "forbidden"
                case 404: "not-found"
                case 405: "method-not-allowed"
                case 413: "too-large"
                default: error.status.code >= 500 ? "internal" : "bad-request"
                }
            let message =
                error.status.code == 413
                ? "the request body is larger than this endpoint accepts"
                : error.status.code == 404 && error.body == nil
                    ? "there is no \(request.method) \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            return JSONResponse.make(ErrorBody(code: code, message: message), status: error.status)
        } catch let error as StoreError {
            switch error.code {
            case .notFound:
                return JSONResponse.make(ErrorBody(code: "not-found", message: error.message), status: .notFound)
            case .conflict:
                return JSONResponse.make(ErrorBody(code: "conflict", message: error.message), status: .conflict)
            case .staleSerial:
                return JSONResponse.make(ErrorBody(code: "stale-plan", message: error.message), status: .conflict)
            default:
                logger.error("store error on \(request.method) \(request.uri.path): \(error.message)")
                return JSONResponse.make(
                    ErrorBody(code: "internal", message: "the state store failed; see the server log"),
                    status: .internalServerError)
            }
        } catch let error as DecodingError {
            return JSONResponse.make(
                ErrorBody(
                    code: "bad-request",
                    message: "the request body is not what this endpoint reads: \(JSONResponse.describe(error))"),
                status: .badRequest)
        } catch {
            logger.error("unexpected error on \(request.method) \(request.uri.path): \(error)")
            return JSONResponse.make(
                ErrorBody(code: "internal", message: "the server failed to answer; see its log"),
                status: .internalServerError)
        }
    }
}

enum JSONResponse {
    static let encoder = WireJSON.encoder()
    static let decoder = WireJSON.decoder()

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Reads a JSON body of at most `limit` bytes (default: the context's upload limit).
    static func decode<T: Decodable>(
        _ type: T.Type, from request: Request, context: ServerContext, limit: Int? = nil
    ) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        let limit = limit ?? context.maxUploadSize
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "too-large", "the request body is larger than \(limit) bytes")
        }
        do {
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest("the request body is not a valid \(T.self): \(describe(error))")
        } catch {
            throw APIError.badRequest("the request body is not JSON")
        }
    }

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
            return context.codingPath.isEmpty ? "it is not valid JSON" : "\(path(context)) is not valid"
        @unknown default: return "it cannot be read"
        }
    }
}
