print("swiftseg")
