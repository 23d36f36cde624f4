namespace EdgeProfile.Cli.Demo;

/// <summary>The counters of an edge's <c>GET /api/stats</c> the demo reports.</summary>
public sealed record EdgeCounters(long Stored, long Duplicates, long DeadLettered, long Late, long Backlog);
