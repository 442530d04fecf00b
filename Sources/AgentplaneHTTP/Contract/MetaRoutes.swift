import Hummingbird
import NIOCore
import Prometheus

/// Plain routes documented in the contract: Prometheus metrics, the contract itself and `/docs`.
struct MetaRoutes<Context: RequestContext> {
    let contract: ContractDocument
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<Context>) {
        let metrics: @Sendable (Request, Context) async throws -> Response = { _, _ in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Self.response(ByteBuffer(bytes: buffer), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/metrics", use: metrics)
        router.get("/api/v1/metrics", use: metrics)
        let json = ByteBuffer(bytes: contract.json)
        router.get("/openapi.json") { _, _ in Self.response(json, contentType: "application/json") }
        let yaml = ByteBuffer(string: contract.yaml)
        router.get("/openapi.yaml") { _, _ in Self.response(yaml, contentType: "application/yaml; charset=utf-8") }
        let html = ByteBuffer(string: contract.html)
        router.get("/docs") { _, _ in Self.response(html, contentType: "text/html; charset=utf-8") }
    }

    private static func response(_ body: ByteBuffer, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: body))
    }
}
