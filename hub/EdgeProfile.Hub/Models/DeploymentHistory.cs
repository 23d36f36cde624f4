namespace EdgeProfile.Hub.Models;

/// <summary>
/// The deployment history in order, and what it means per store: each deploy that names a store (or every store)
/// pushes a version on that store's stack, each rollback that names it pops one; the top is its assignment.
/// Immutable: the registry swaps whole instances.
/// </summary>
public sealed class DeploymentHistory
{
    /// <summary>No deployment yet.</summary>
    public static readonly DeploymentHistory Empty = new([]);

    internal DeploymentHistory(IReadOnlyList<ModelDeployment> rows)
    {
        Rows = rows;
        Revision = rows.Count == 0 ? 0 : rows[^1].Revision;
    }

    /// <summary>Every deployment and rollback, oldest first.</summary>
    public IReadOnlyList<ModelDeployment> Rows { get; }

    /// <summary>The latest entry's number (0: none).</summary>
    public long Revision { get; }

    /// <summary>The version <paramref name="storeId"/> should serve, or null.</summary>
    public string? AssignedTo(string storeId) => StackOf(storeId) is [.., var top] ? top : null;

    /// <summary>The store's versions, oldest first, as deploys and rollbacks left them.</summary>
    public IReadOnlyList<string> StackOf(string storeId)
    {
        var stack = new List<string>();
        foreach (var row in Rows)
        {
            var applies = row.Stores.Count == 0 || row.Stores.Contains(storeId, StringComparer.Ordinal);
            if (!applies)
            {
                continue;
            }

            if (row.Action == "deploy" && row.Version is { } version)
            {
                stack.Add(version);
            }
            else if (row.Action == "rollback" && stack.Count > 1)
            {
                stack.RemoveAt(stack.Count - 1);
            }
        }

        return stack;
    }
}
