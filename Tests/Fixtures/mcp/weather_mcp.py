"""weather-mcp: a stdio MCP test server (mcp 2.x, pinned in scripts/install-oracles).

Tools:
- forecast(city) -> structured {"summary", "city", "temperature_c"}, deterministic per city;
- slow(seconds) -> sleeps, then answers (call-timeout tests);
- fail(reason) -> a tool error result (isError);
- pid() -> this process's id (reuse and restart tests).
"""

import asyncio
import os
import sys
from typing import TypedDict

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("weather-mcp")


class Forecast(TypedDict):
    summary: str
    city: str
    temperature_c: int


@server.tool()
def forecast(city: str) -> Forecast:
    """The weather forecast for a city (deterministic: the same city gives the same answer)."""
    temperature = sum(city.encode("utf-8")) % 35
    return {"summary": f"Sunny in {city}, {temperature} °C", "city": city, "temperature_c": temperature}


@server.tool()
async def slow(seconds: float) -> str:
    """Sleeps for `seconds`, then answers."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def fail(reason: str) -> str:
    """Always fails with `reason` (a tool error result, not a protocol error)."""
    raise ToolError(reason)


@server.tool()
def pid() -> int:
    """The id of the server's process."""
    return os.getpid()


if __name__ == "__main__":
    print("weather-mcp starting", file=sys.stderr, flush=True)
    server.run("stdio")
