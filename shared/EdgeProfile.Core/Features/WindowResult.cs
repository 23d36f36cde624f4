namespace EdgeProfile.Core.Features;

/// <summary>
/// The value of one closed window of one customer: <c>[StartMs, EndMs)</c> in event time. For sessions the window is
/// <c>[first event, last event + gap)</c>. <see cref="AggregationKind.TimeSinceLast"/> is measured to
/// <see cref="EndMs"/>. A <see cref="WindowEmission.Retract"/> carries the value last emitted.
/// </summary>
/// <param name="CustomerKey">The customer.</param>
/// <param name="DefinitionId">The definition, <c>name@vN</c>.</param>
/// <param name="StartMs">Window start, inclusive, Unix milliseconds.</param>
/// <param name="EndMs">Window end, exclusive, Unix milliseconds.</param>
/// <param name="Value">The aggregate.</param>
/// <param name="Kind">Final, update or retraction.</param>
public sealed record WindowResult(string CustomerKey, string DefinitionId, long StartMs, long EndMs, FeatureValue Value, WindowEmission Kind);
