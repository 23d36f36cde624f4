using System.Diagnostics;
using System.Globalization;

namespace EdgeProfile.Knowledge.Graph;

/// <summary>One category line of the Google product taxonomy.</summary>
/// <param name="Id">Google's category id.</param>
/// <param name="Segments">The path from the top level to this category.</param>
public sealed record TaxonomyCategory(long Id, IReadOnlyList<string> Segments)
{
    /// <summary>The category's own name (last path segment).</summary>
    public string Name => Segments[^1];

    /// <summary>The full path, segments joined by <c> &gt; </c>.</summary>
    public string Path => string.Join(" > ", Segments);

    /// <summary>Depth: 1 for top-level categories.</summary>
    public int Depth => Segments.Count;
}

/// <summary>What a taxonomy import wrote.</summary>
/// <param name="Categories">Categories read (the root not counted).</param>
/// <param name="MaxDepth">The deepest level.</param>
/// <param name="DepthCounts">Categories per depth.</param>
/// <param name="TriplesAdded">New triples written.</param>
/// <param name="Elapsed">Wall time of the import.</param>
public sealed record TaxonomyImportResult(int Categories, int MaxDepth, IReadOnlyDictionary<int, int> DepthCounts, int TriplesAdded, TimeSpan Elapsed);

/// <summary>
/// Imports the Google product taxonomy (<c>taxonomy-with-ids.en-US.txt</c>: <c>#</c> comment lines, then one
/// <c>ID - A &gt; B &gt; C</c> line per category). Each category becomes the node <c>taxonomy:ID</c> with
/// <c>type Category</c>, <c>name</c> (last segment, string), <c>path</c> (full path, string), <c>googleId</c> and
/// <c>depth</c> (numbers) and <c>subClassOf</c> its parent; top-level categories are <c>subClassOf</c> the root
/// <see cref="Root"/> (<c>taxonomy:root</c>, depth 0, name "Google Product Taxonomy").
/// </summary>
public static class TaxonomyImporter
{
    /// <summary>The root every top-level category is a subclass of.</summary>
    public static readonly Term Root = Term.Name("taxonomy:root");

    /// <summary>The node of a Google category id.</summary>
    /// <param name="googleId">The id.</param>
    /// <returns><c>taxonomy:ID</c>.</returns>
    public static Term Node(long googleId) => Term.Name("taxonomy:" + googleId.ToString(CultureInfo.InvariantCulture));

    /// <summary>Parses taxonomy lines.</summary>
    /// <param name="reader">The text.</param>
    /// <returns>The categories in file order.</returns>
    /// <exception cref="FormatException">A line is not <c>ID - path</c> (message names the line).</exception>
    public static IReadOnlyList<TaxonomyCategory> Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new List<TaxonomyCategory>();
        var lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash <= 0 || !long.TryParse(line.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                throw new FormatException($"Taxonomy line {lineNo}: expected 'ID - A > B', got '{line}'.");
            }

            var segments = line[(dash + 3)..].Split(" > ", StringSplitOptions.TrimEntries);
            if (segments.Any(string.IsNullOrEmpty))
            {
                throw new FormatException($"Taxonomy line {lineNo}: empty path segment in '{line}'.");
            }

            result.Add(new TaxonomyCategory(id, segments));
        }

        return result;
    }

    /// <summary>Imports a taxonomy file.</summary>
    /// <param name="store">The store.</param>
    /// <param name="path">The file.</param>
    /// <returns>What was imported.</returns>
    public static TaxonomyImportResult Import(TripleStore store, string path)
    {
        using var reader = new StreamReader(path, System.Text.Encoding.UTF8);
        return Import(store, reader);
    }

    /// <summary>Imports taxonomy text in one transaction.</summary>
    /// <param name="store">The store.</param>
    /// <param name="reader">The text.</param>
    /// <returns>What was imported.</returns>
    /// <exception cref="FormatException">A line is malformed, or a category's parent path has no line.</exception>
    public static TaxonomyImportResult Import(TripleStore store, TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(store);
        var watch = Stopwatch.StartNew();
        var categories = Parse(reader);
        var byPath = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var c in categories)
        {
            if (!byPath.TryAdd(c.Path, c.Id))
            {
                throw new FormatException($"Taxonomy path '{c.Path}' appears twice.");
            }
        }

        var triples = new List<Triple>(categories.Count * 6 + 3)
        {
            new(Root, Vocabulary.Type, Vocabulary.CategoryClass),
            new(Root, Vocabulary.NameProperty, Term.Text("Google Product Taxonomy")),
            new(Root, Vocabulary.Depth, Term.Number(0)),
        };
        var depthCounts = new SortedDictionary<int, int>();
        foreach (var c in categories)
        {
            var node = Node(c.Id);
            Term parent;
            if (c.Depth == 1)
            {
                parent = Root;
            }
            else
            {
                var parentPath = string.Join(" > ", c.Segments.Take(c.Depth - 1));
                parent = byPath.TryGetValue(parentPath, out var parentId)
                    ? Node(parentId)
                    : throw new FormatException($"Taxonomy category {c.Id} '{c.Path}' has no parent line '{parentPath}'.");
            }

            triples.Add(new(node, Vocabulary.Type, Vocabulary.CategoryClass));
            triples.Add(new(node, Vocabulary.NameProperty, Term.Text(c.Name)));
            triples.Add(new(node, Vocabulary.Path, Term.Text(c.Path)));
            triples.Add(new(node, Vocabulary.GoogleId, Term.Number(c.Id)));
            triples.Add(new(node, Vocabulary.Depth, Term.Number(c.Depth)));
            triples.Add(new(node, Vocabulary.SubClassOf, parent));
            depthCounts[c.Depth] = depthCounts.GetValueOrDefault(c.Depth) + 1;
        }

        var added = store.AddRange(triples);
        return new TaxonomyImportResult(categories.Count, depthCounts.Count == 0 ? 0 : depthCounts.Keys.Max(), depthCounts, added, watch.Elapsed);
    }
}
