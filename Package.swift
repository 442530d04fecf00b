// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "Agentplane",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "agentplane", targets: ["agentplane"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Traces over OTLP/HTTP only: the gRPC exporter (and grpc-swift with it) stays out of the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Domain: types, state machines, validation, error catalogue. No I/O.
        .target(
            name: "AgentplaneCore",
            swiftSettings: swiftSettings
        ),
        // Store ports (protocols per aggregate), StoreError, capabilities.
        .target(
            name: "AgentplaneStore",
            dependencies: [
                "AgentplaneCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Use cases: the one door every caller (HTTP, CLI, commands, workers) goes through.
        .target(
            name: "AgentplaneApp",
            dependencies: [
                "AgentplaneCore",
                "AgentplaneStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AgentplaneSQLite",
            dependencies: [
                "AgentplaneStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AgentplanePostgres",
            dependencies: [
                "AgentplaneStore",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AgentplaneEngine",
            dependencies: [
                "AgentplaneApp",
                "AgentplaneMCP",
                "AgentplaneStore",
                "AgentplaneTracing",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // MCP client side: stdio server processes (allow-listed) and a streamable-HTTP transport that
        // reads JSON and SSE replies; a pool that keeps servers alive.
        .target(
            name: "AgentplaneMCP",
            dependencies: [
                "AgentplaneCore",
                "AgentplaneTracing",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: swiftSettings
        ),
        // Outbound HTTP calls as client spans with the W3C trace context in their headers (the tracing API
        // only: whichever tracer the composition root bootstraps, or none).
        .target(
            name: "AgentplaneTracing",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The contract: openapi.yaml + generator config; generated types and server protocol.
        .target(
            name: "AgentplaneAPI",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")
            ],
            swiftSettings: swiftSettings,
            plugins: [
                .plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator"),
                .plugin(name: "EmbedOpenAPI"),
            ]
        ),
        .target(
            name: "AgentplaneHTTP",
            dependencies: [
                "AgentplaneAPI",
                "AgentplaneApp",
                "AgentplaneCore",
                "AgentplaneEngine",
                "AgentplaneStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The composition root: configuration, backend choice, ServiceGroup wiring.
        .target(
            name: "AgentplaneServer",
            dependencies: [
                "AgentplaneApp",
                "AgentplaneEngine",
                "AgentplaneHTTP",
                "AgentplanePostgres",
                "AgentplaneSQLite",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "agentplane",
            dependencies: [
                "AgentplaneServer",
                "AgentplaneStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Build tool: compiles openapi.yaml into the API target as a string.
        .executableTarget(name: "agentplane-embed"),
        // Benchmark: drains no-op runs through the real queue and worker (Benchmarks/README.md).
        .executableTarget(
            name: "runs-bench",
            dependencies: [
                "AgentplaneEngine", "AgentplaneServer", "AgentplaneTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Benchmarks/RunsBench",
            swiftSettings: swiftSettings
        ),
        .plugin(name: "EmbedOpenAPI", capability: .buildTool(), dependencies: ["agentplane-embed"]),
        // Shared test helpers: isolated SQLite files, fresh PostgreSQL schemas, a live server.
        .target(
            name: "AgentplaneTesting",
            dependencies: [
                "AgentplaneServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentplaneCoreTests",
            dependencies: ["AgentplaneAPI", "AgentplaneCore", "AgentplaneApp"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentplaneScheduleTests",
            dependencies: ["AgentplaneCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentplanePipelineTests",
            dependencies: ["AgentplaneCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentplaneMCPTests",
            dependencies: ["AgentplaneMCP", "AgentplaneTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: ["AgentplaneApp", "AgentplaneEngine", "AgentplaneTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentplaneHTTPTests",
            dependencies: [
                "AgentplaneApp",
                "AgentplaneCore",
                "AgentplaneEngine",
                "AgentplaneHTTP",
                "AgentplaneStore",
                "AgentplaneTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentplaneCLITests",
            dependencies: [
                "AgentplaneApp", "AgentplaneTesting", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
