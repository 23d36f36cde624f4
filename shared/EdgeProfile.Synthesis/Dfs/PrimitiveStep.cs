namespace EdgeProfile.Synthesis.Dfs;

/// <summary>
/// One step of a feature's primitive chain, innermost first: which primitive (<c>MEAN</c>, <c>IS_WEEKEND</c>,
/// <c>DIRECT</c>), of which type (aggregation, transform, direct), producing a value of which entity, from which input.
/// </summary>
/// <param name="Primitive">Primitive name, Featuretools style (<c>N_UNIQUE</c>).</param>
/// <param name="Type"><c>aggregation</c>, <c>transform</c> or <c>direct</c> (a parent's value copied to its child rows).</param>
/// <param name="Entity">The entity whose value the step produces: <c>customers</c>, <c>transactions</c>, <c>products</c>, <c>stores</c>, <c>categories</c>.</param>
/// <param name="Input">What the step reads, e.g. <c>transactions.amount</c>.</param>
public sealed record PrimitiveStep(string Primitive, string Type, string Entity, string Input);
