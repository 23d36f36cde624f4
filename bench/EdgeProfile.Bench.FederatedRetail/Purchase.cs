namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>One transaction line: who, when, which basket and product (and its category; −1 unknown), spend and units.</summary>
internal sealed record Purchase(int Customer, DateTime Time, long Basket, int Product, int Category, float Amount, float Units);
