namespace EdgeProfile.Cli.Demo;

/// <summary>The small built-in catalogue the demo sells from: a few departments, CNY prices, '&gt;' category paths.</summary>
public static class DemoCatalog
{
    /// <summary>Every product.</summary>
    public static IReadOnlyList<DemoProduct> Products { get; } =
    [
        new("SKU-BB-1001", "Stroller X Lite", "Baby & Toddler > Strollers", 1299.00),
        new("SKU-BB-1002", "Travel System Stroller", "Baby & Toddler > Strollers", 2499.00),
        new("SKU-BB-1010", "Diapers Size 3 (84 pcs)", "Baby & Toddler > Diapers", 139.00),
        new("SKU-BB-1011", "Diapers Size 4 (72 pcs)", "Baby & Toddler > Diapers", 139.00),
        new("SKU-BB-1020", "Infant Formula Stage 2 (800 g)", "Baby & Toddler > Feeding > Formula", 268.00),
        new("SKU-BB-1021", "Glass Feeding Bottle Set", "Baby & Toddler > Feeding > Bottles", 159.00),
        new("SKU-BB-1030", "Convertible Car Seat", "Baby & Toddler > Car Seats", 1899.00),
        new("SKU-EL-2001", "Smartphone Pro 256 GB", "Electronics > Phones", 6999.00),
        new("SKU-EL-2002", "Smartphone Lite 128 GB", "Electronics > Phones", 1999.00),
        new("SKU-EL-2010", "Noise-Cancelling Headphones", "Electronics > Audio > Headphones", 1499.00),
        new("SKU-EL-2011", "True Wireless Earbuds", "Electronics > Audio > Headphones", 399.00),
        new("SKU-EL-2020", "Bluetooth Speaker", "Electronics > Audio > Speakers", 299.00),
        new("SKU-EL-2030", "65W GaN Charger", "Electronics > Accessories > Chargers", 129.00),
        new("SKU-EL-2031", "Power Bank 20000 mAh", "Electronics > Accessories > Chargers", 169.00),
        new("SKU-EL-2040", "Smart Watch S", "Electronics > Wearables", 1299.00),
        new("SKU-FA-3001", "Silk Midi Dress", "Fashion > Women > Dresses", 899.00),
        new("SKU-FA-3002", "Down Jacket (Women)", "Fashion > Women > Outerwear", 1199.00),
        new("SKU-FA-3010", "Leather Sneakers", "Fashion > Men > Shoes", 699.00),
        new("SKU-FA-3011", "Running Shoes", "Fashion > Men > Shoes", 599.00),
        new("SKU-FA-3020", "Cashmere Scarf", "Fashion > Accessories", 459.00),
        new("SKU-FA-3030", "Kids Rain Boots", "Fashion > Kids > Shoes", 129.00),
        new("SKU-GR-4001", "Whole Milk 1 L", "Grocery > Dairy", 15.80),
        new("SKU-GR-4002", "Greek Yogurt 4-pack", "Grocery > Dairy", 29.90),
        new("SKU-GR-4010", "Jasmine Rice 5 kg", "Grocery > Pantry > Rice", 69.90),
        new("SKU-GR-4011", "Light Soy Sauce 500 ml", "Grocery > Pantry > Condiments", 12.50),
        new("SKU-GR-4020", "Mixed Nuts 500 g", "Grocery > Snacks", 59.00),
        new("SKU-GR-4021", "Seaweed Snack 12-pack", "Grocery > Snacks", 25.00),
        new("SKU-GR-4030", "Oolong Tea 250 g", "Grocery > Beverages > Tea", 88.00),
        new("SKU-GR-4031", "Sparkling Water 24-pack", "Grocery > Beverages", 48.00),
        new("SKU-BE-5001", "Hydrating Serum 30 ml", "Beauty > Skincare", 329.00),
        new("SKU-BE-5002", "Sunscreen SPF50", "Beauty > Skincare", 159.00),
        new("SKU-BE-5010", "Matte Lipstick", "Beauty > Makeup", 249.00),
        new("SKU-HO-6001", "Rice Cooker 4 L", "Home > Kitchen > Appliances", 599.00),
        new("SKU-HO-6002", "Non-stick Wok 32 cm", "Home > Kitchen > Cookware", 289.00),
        new("SKU-HO-6010", "Down Duvet Queen", "Home > Bedding", 899.00),
        new("SKU-SP-7001", "Yoga Mat 6 mm", "Sports > Fitness", 159.00),
        new("SKU-SP-7002", "Adjustable Dumbbells", "Sports > Fitness", 899.00),
        new("SKU-SP-7010", "2-Person Camping Tent", "Sports > Outdoor > Camping", 699.00),
    ];

    /// <summary>The departments, in catalogue order.</summary>
    public static IReadOnlyList<string> Departments { get; } = Products.Select(p => p.Department).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Search phrases people type, per department.</summary>
    public static IReadOnlyDictionary<string, string[]> SearchTerms { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["Baby & Toddler"] = ["stroller lightweight", "diapers size 4", "formula stage 2", "car seat isofix", "婴儿推车"],
        ["Electronics"] = ["phone 256gb", "noise cancelling headphones", "fast charger", "smart watch", "蓝牙耳机"],
        ["Fashion"] = ["silk dress", "down jacket women", "running shoes men", "cashmere scarf", "羽绒服"],
        ["Grocery"] = ["milk", "jasmine rice", "mixed nuts", "oolong tea", "零食"],
        ["Beauty"] = ["serum", "sunscreen spf50", "matte lipstick", "护肤"],
        ["Home"] = ["rice cooker", "wok", "duvet", "电饭煲"],
        ["Sports"] = ["yoga mat", "dumbbells", "camping tent", "露营"],
    };

    /// <summary>Short videos the CDN serves, per department.</summary>
    public static IReadOnlyDictionary<string, string[]> Videos { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["Baby & Toddler"] = ["Stroller X folding in 3 seconds", "Which diaper size when?"],
        ["Electronics"] = ["Smartphone Pro camera test", "Earbuds battery: a week of use"],
        ["Fashion"] = ["Winter capsule wardrobe", "Sneaker care in 60 s"],
        ["Grocery"] = ["5-minute breakfast ideas", "Oolong tea brewing guide"],
        ["Beauty"] = ["Morning skincare routine", "Sunscreen myths"],
        ["Home"] = ["One-pot rice cooker recipes", "Seasoning a wok"],
        ["Sports"] = ["10-minute home workout", "Pitching a tent solo"],
    };
}
