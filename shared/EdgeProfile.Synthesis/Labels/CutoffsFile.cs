using EdgeProfile.Synthesis.Dfs;

namespace EdgeProfile.Synthesis.Labels;

/// <summary>What a cutoffs file gave: the usable rows and how many were skipped, and why.</summary>
/// <param name="Rows">Customers with history before their cutoff.</param>
/// <param name="Read">Data rows read.</param>
/// <param name="UnknownCustomers">Rows whose customer is not in the transactions.</param>
/// <param name="WithoutHistory">Rows whose customer has no transaction before the cutoff.</param>
public sealed record CutoffsFile(IReadOnlyList<CutoffRow> Rows, int Read, int UnknownCustomers, int WithoutHistory);
