import Metrics
import Prometheus
import Synchronization

/// The process-wide Prometheus registry; swift-metrics can be bootstrapped once per process.
package enum PrometheusMetrics {
    private static let state = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The registry, bootstrapping the metrics system on first use.
    package static func registry() -> PrometheusCollectorRegistry {
        state.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: created)
            factory.nameAndLabelSanitizer = { name, labels in
                (metricName(name), labels.map { (labelName($0.0), $0.1) })
            }
            MetricsSystem.bootstrap(factory)
            registry = created
            return created
        }
    }

    /// Hummingbird's metric names, in Prometheus conventions.
    static func metricName(_ name: String) -> String {
        switch name {
        case "hb.requests": "agentplane_http_requests_total"
        case "hb.request.errors": "agentplane_http_request_errors_total"
        case "http.server.request.duration": "agentplane_http_request_duration_seconds"
        case "http.server.active_requests": "agentplane_http_active_requests"
        default: underscored(name)
        }
    }

    static func labelName(_ name: String) -> String {
        switch name {
        case "http.route": "route"
        case "http.request.method": "method"
        case "http.response.status_code": "status"
        case "error.type": "error_type"
        default: underscored(name)
        }
    }

    /// `name` with its dots as underscores (without Foundation's search when there is none: this runs for every
    /// metric recorded).
    static func underscored(_ name: String) -> String {
        name.utf8.contains(UInt8(ascii: ".")) ? String(name.map { $0 == "." ? "_" : $0 }) : name
    }
}
