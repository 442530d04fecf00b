import Testing

@testable import AgentplaneMCP

/// The SSE parser on its own: line endings, fields, comments, and chunks cut anywhere.
@Suite struct ServerSentEventParserTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var stream: String
        var events: [ServerSentEvent]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "LF lines, event type and id",
            stream: "event: message\nid: 7\ndata: {\"a\":1}\n\n",
            events: [ServerSentEvent(event: "message", data: "{\"a\":1}", id: "7")]),
        Case(
            name: "CRLF lines, two events",
            stream: "data: one\r\n\r\ndata: two\r\n\r\n",
            events: [ServerSentEvent(data: "one"), ServerSentEvent(data: "two")]),
        Case(
            name: "CR-only lines",
            stream: "data: one\r\rdata: two\r\r",
            events: [ServerSentEvent(data: "one"), ServerSentEvent(data: "two")]),
        Case(
            name: "multi-line data joined by LF",
            stream: "data: {\"a\":\ndata:  1}\n\n",
            events: [ServerSentEvent(data: "{\"a\":\n 1}")]),
        Case(
            name: "comments and retry ignored, id kept for later events",
            stream: ": keep-alive\nid: 3\nretry: 1000\n\n: ping\ndata: x\n\n",
            events: [ServerSentEvent(data: "x", id: "3")]),
        Case(
            name: "a field without colon, and a value without the optional space",
            stream: "data\ndata:y\n\n",
            events: [ServerSentEvent(data: "\ny")]),
        Case(
            name: "a byte-order mark at the start",
            stream: "\u{FEFF}data: first\n\n",
            events: [ServerSentEvent(data: "first")]),
        Case(
            name: "an event without data is not dispatched, an unfinished one is dropped",
            stream: "event: ping\n\ndata: done\n\ndata: cut off",
            events: [ServerSentEvent(data: "done")]),
        Case(
            name: "multi-byte UTF-8 and a mixed CRLF, LF and CR stream",
            stream: "data: Zürich ☀️\r\nevent: message\n\rdata: 2\r\n\n",
            events: [ServerSentEvent(event: "message", data: "Zürich ☀️"), ServerSentEvent(data: "2")]),
    ]

    @Test(arguments: cases)
    func parsesWholeStream(_ testCase: Case) {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array(testCase.stream.utf8)) == testCase.events)
    }

    @Test(arguments: cases)
    func parsesTheSameWhateverTheChunkBoundaries(_ testCase: Case) {
        let bytes = Array(testCase.stream.utf8)
        // Every single cut (inside a line, a UTF-8 sequence, between CR and LF), then byte by byte.
        for cut in 0...bytes.count {
            var parser = ServerSentEventParser()
            let events = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(events == testCase.events, "cut at byte \(cut)")
        }
        var parser = ServerSentEventParser()
        let events = bytes.flatMap { parser.feed([$0]) }
        #expect(events == testCase.events, "byte by byte")
    }

    @Test func crAtTheEndOfAChunkThenLFStartingTheNextIsOneLineEnd() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: a\r".utf8)).isEmpty)
        // If the LF after the chunk's CR counted as a second line end, the event would be dispatched here.
        #expect(parser.feed(Array("\ndata: b\r".utf8)).isEmpty)
        #expect(parser.feed(Array("\n\r\n".utf8)) == [ServerSentEvent(data: "a\nb")])
    }
}
